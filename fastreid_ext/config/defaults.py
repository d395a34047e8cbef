"""Config keys that fastreid_ext adds to FastReID's defaults, grouped by the module that reads them;
projects add theirs through :data:`CONFIG_EXTENSIONS`, which ``get_cfg()`` applies.
"""
from fastreid.config import CfgNode as CN

# name -> fn(cfg) adding a project's keys; filled by the projects on import.
CONFIG_EXTENSIONS = {}


def add_cm_config(cfg: CN) -> None:
    """Add every fastreid_ext key to ``cfg`` (in place)."""
    _add_engine_config(cfg)
    _add_data_config(cfg)
    _add_model_config(cfg)
    _add_eval_config(cfg)
    _add_retrieval_config(cfg)


def _add_engine_config(cfg):
    # "auto": CUDA when available, else CPU. Any torch device string is accepted too.
    cfg.MODEL.DEVICE = "auto"
    # Loading MODEL.WEIGHTS fails on missing/unexpected/mismatched keys; False loads what matches.
    cfg.MODEL.STRICT_LOAD = True
    # Data-loading worker processes per training/test loader; -1 ("auto"): usable CPUs / local processes - 1.
    cfg.DATALOADER.NUM_WORKERS = -1
    # Decode and resize every training image once, shared by the workers (N x H x W x 3 bytes; SYSU: 4.2 GB).
    cfg.DATALOADER.CACHE_IMAGES = False
    # Run seed; negative draws one and records it in config.yaml. Epoch e reseeds with (SEED, e, rank).
    cfg.SEED = -1
    # torch.use_deterministic_algorithms: bit-exact repeats at some speed cost.
    cfg.DETERMINISTIC = False
    # Iterations between log lines / metrics.json / tensorboard writes.
    cfg.SOLVER.LOG_PERIOD = 20
    # Periodic checkpoints (model_<epoch>.pth) kept on disk, the newest; 0 keeps all. model_best/final apart.
    cfg.SOLVER.CHECKPOINT_KEEP = 2
    # model_final.pth without optimizer/scheduler state (ResNet-50 PAENet: 0.48 instead of 0.96 GiB).
    cfg.SOLVER.FINAL_WEIGHTS_ONLY = False
    # Factor on the attribute predictor's rate (MODEL.HEADS.ATTR_PRED), on top of HEADS_LR_FACTOR.
    cfg.SOLVER.ATTR_PRED_LR_FACTOR = 1.0
    # Test-time attribute sources to evaluate, one row each (e.g. ["pred", "gt"]) for heads that read
    # attributes (PAENet); empty = the head's own setting (MODEL.PAE.TEST_ATTRIBUTES).
    cfg.TEST.ATTRIBUTES = []


def _add_data_config(cfg):
    # Datasets root; "" = env FASTREID_DATASETS, else "datasets".
    cfg.DATASETS.ROOT = ""
    # Check every listed image (header, JPEG end marker, BMP size) when a dataset is built.
    cfg.DATASETS.CHECK_IMAGES = True
    # Leave out (and list) unreadable or truncated images instead of failing.
    cfg.DATASETS.SKIP_BAD_IMAGES = False
    cfg.DATASETS.SYSU = CN()
    # Gallery cameras: "all" (1, 2, 4, 5) or "indoor" (1, 2).
    cfg.DATASETS.SYSU.MODE = "all"
    # Gallery images per identity and camera: 1 (single-shot) or 10 (multi-shot).
    cfg.DATASETS.SYSU.SHOTS = 1
    # Gallery draw, 0..9.
    cfg.DATASETS.SYSU.TRIAL = 0
    # Gallery sampler: "seeded" (public code with random.seed(trial)) or "official" (exp/rand_perm_cam.mat).
    cfg.DATASETS.SYSU.SAMPLER = "seeded"
    # Attribute CSV (pid[,cam],<names>) or folder of the released cam<N>_att.mat; "" = none.
    cfg.DATASETS.SYSU.ATTRIBUTES = "attributes.csv"
    cfg.DATASETS.REGDB = CN()
    # Train/test split, 1..10.
    cfg.DATASETS.REGDB.TRIAL = 1
    # "v2t": visible query, thermal gallery; "t2v": the swap.
    cfg.DATASETS.REGDB.DIRECTION = "v2t"
    # Attribute CSV (pid[,cam],<names>; pid: folder id, cam: 1 visible, 2 thermal) or cam<N>_att.mat folder.
    cfg.DATASETS.REGDB.ATTRIBUTES = "attributes.csv"
    # Allow evaluating a checkpoint on another RegDB trial than it was trained on (leaks test ids).
    cfg.DATASETS.REGDB.FORCE_TRIAL_MISMATCH = False
    cfg.DATASETS.LLCM = CN()
    # Gallery draw, 0..9.
    cfg.DATASETS.LLCM.TRIAL = 0
    # "v2t": visible query, infrared gallery; "t2v": the swap.
    cfg.DATASETS.LLCM.DIRECTION = "v2t"
    # Attribute CSV (pid[,cam],<names>; cam = the cam<N> number) or cam<N>_att.mat folder; "" = none.
    cfg.DATASETS.LLCM.ATTRIBUTES = "attributes.csv"
    # P identities x (K visible + K infrared) per batch: IMS_PER_BATCH = 2 * P * NUM_INSTANCE.
    cfg.DATALOADER.SAMPLER_TRAIN = "CrossModalityIdentitySampler"
    # Iterations an epoch: "images" (FastReID: N_images // IMS_PER_BATCH) or "modality" (the AGW /
    # MMD-ReID / PAENet identity sampler: max(N_visible, N_infrared) // (P K) + 1).
    cfg.DATALOADER.EPOCH_LENGTH = "images"
    # Training resize (H, W); the paper's 288x144 (Sec. 4.1), as the next three keys.
    cfg.INPUT.SIZE_TRAIN = [288, 144]
    # Test resize (H, W).
    cfg.INPUT.SIZE_TEST = [288, 144]
    # Zero-pad INPUT.PADDING.SIZE (10) then random-crop back to SIZE_TRAIN.
    cfg.INPUT.PADDING.ENABLED = True
    # Random horizontal flip.
    cfg.INPUT.FLIP.ENABLED = True
    cfg.INPUT.CHANNEL_AUG = CN()
    # Channel augmentations of visible images (after ToTensor, before random erasing).
    cfg.INPUT.CHANNEL_AUG.ENABLED = False
    # Probability to copy one random channel (R, G or B) into all three.
    cfg.INPUT.CHANNEL_AUG.EXCHANGE_PROB = 0.5
    # Probability to turn the image to 3-channel grayscale.
    cfg.INPUT.CHANNEL_AUG.GRAY_PROB = 0.0


def _add_model_config(cfg):
    # Dual-stream ResNet: stages before this one (stem, layer1..) are modality-specific; layer1..layer4.
    cfg.MODEL.BACKBONE.SHARED_FROM = "layer1"
    # Inner width of the non-local blocks (WITH_NL): 0 = C/2 (non-local networks); n > 0 = n (released code: 1).
    cfg.MODEL.BACKBONE.NL_INTER_CHANNELS = 0
    # Number of binary attributes of the dataset (0: none); heads that use attributes read it.
    cfg.MODEL.HEADS.NUM_ATTRIBUTES = 0
    cfg.MODEL.HEADS.ATTR_PRED = CN()
    # CMEmbeddingHead: FC on the pooled feature predicting the attributes (attr_pred_logits / attr_probs).
    cfg.MODEL.HEADS.ATTR_PRED.ENABLED = False
    # Normalisation of the pooled feature before that FC: "BN" (a BatchNorm1d of its own, as the BNNeck
    # does for the ID classifier: it removes the large batch mean that stalls a plain FC), or "none".
    cfg.MODEL.HEADS.ATTR_PRED.NORM = "BN"
    cfg.MODEL.LOSSES.MMD = CN()
    # MarginMMDLoss: an identity's MMD counts only when it exceeds this margin; None: plain class-wise MMD.
    cfg.MODEL.LOSSES.MMD.MARGIN = 1.4
    # MarginMMDLoss weight.
    cfg.MODEL.LOSSES.MMD.SCALE = 1.0
    cfg.MODEL.LOSSES.HCT = CN()
    # HeteroCenterTripletLoss margin between positive and negative centre distances.
    cfg.MODEL.LOSSES.HCT.MARGIN = 0.3
    # HeteroCenterTripletLoss weight.
    cfg.MODEL.LOSSES.HCT.SCALE = 1.0
    cfg.MODEL.LOSSES.WRT = CN()
    # WeightedRegularizedTriplet (AGW) weight.
    cfg.MODEL.LOSSES.WRT.SCALE = 1.0
    cfg.MODEL.LOSSES.ATTR = CN()
    # AttributeBCELoss: head outputs (B, A logits) it applies BCE to, summed over those present.
    cfg.MODEL.LOSSES.ATTR.OUTPUTS = ("attr_logits", "attr_pred_logits")
    # AttributeBCELoss weight (lambda of Eq. 11).
    cfg.MODEL.LOSSES.ATTR.SCALE = 1.0


def _add_eval_config(cfg):
    # Cross-modality evaluation (fastreid_ext.evaluation.CrossModalityEvaluator); TEST.METRIC, TEST.FLIP
    # and TEST.RERANK are FastReID's keys (re-ranking is reported as an extra row next to the plain one).
    # Settings one run evaluates, e.g. ["all-1shot-seeded", "indoor-1shot-seeded"] or ["v2t"]; [] = the defaults.
    cfg.TEST.SETTINGS = []
    # Query rows whose distances to the whole gallery are held at once (memory ~ 10 bytes x rows x gallery).
    cfg.TEST.BLOCK_SIZE = 1024
    # Length of the CMC curve (Rank-k reported for k in 1, 5, 10, 20 up to this).
    cfg.TEST.MAX_RANK = 20
    # Probability from which a predicted attribute counts as present, for the attribute metrics.
    cfg.TEST.ATTR_THRES = 0.5
    cfg.TEST.INDEX = CN()
    # Score each trial's top TOPK from the GalleryIndex of RETRIEVAL.* (truncated mAP/mINP, plus Recall@k vs exact).
    cfg.TEST.INDEX.ENABLED = False
    # Gallery items retrieved per query (at least TEST.MAX_RANK).
    cfg.TEST.INDEX.TOPK = 100


def _add_retrieval_config(cfg):
    # Large-gallery search (fastreid_ext.retrieval.GalleryIndex). 0 means "the kind's default".
    cfg.RETRIEVAL = CN()
    # Index kind: flat (exact), ivf (IVF-Flat), ivfpq (IVF + product quantisation), hnsw.
    cfg.RETRIEVAL.KIND = "flat"
    # cosine (inner product of L2-normalised features) or l2 (squared Euclidean distance).
    cfg.RETRIEVAL.METRIC = "cosine"
    # ivf/ivfpq: k-means cells; 0 = about 4*sqrt(number of training vectors).
    cfg.RETRIEVAL.NLIST = 0
    # ivf/ivfpq: cells scanned per query (recall vs speed); 0 = the kind's tuned default.
    cfg.RETRIEVAL.NPROBE = 0
    # ivf/ivfpq: k-means training subsample size; 0 = 64 * NLIST.
    cfg.RETRIEVAL.TRAIN_SIZE = 0
    # ivfpq: sub-quantizers per vector (must divide the dimension); hnsw: graph neighbours a node.
    cfg.RETRIEVAL.M = 0
    # ivfpq: bits per sub-quantizer code; 0 = 8.
    cfg.RETRIEVAL.NBITS = 0
    # hnsw: candidate list size while searching (recall vs speed); 0 = the kind's tuned default.
    cfg.RETRIEVAL.EF_SEARCH = 0
    # hnsw: candidate list size while inserting (graph quality vs build time); 0 = 40.
    cfg.RETRIEVAL.EF_CONSTRUCTION = 0
    # Queries searched per faiss call.
    cfg.RETRIEVAL.BATCH_SIZE = 4096
