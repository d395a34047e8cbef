"""SynthVI presets with the shape of the real sets: ``make_synthvi(out, **PRESETS["sysu"])``."""
from .plan import Shape

# SYSU-MM01 (Wu et al., ICCV 2017; github.com/wuancong/SYSU-MM01 README): 491 identities in a fixed split of
# 296 train, 99 val and 96 test ids; 30,071 visible and 15,792 infrared images. The 395 train + val ids hold
# 22,258 visible and 11,909 infrared images and the test ids 3,803 infrared queries (the counts every
# cross-modality paper reports since AGW); the test visible count is the rest, 30,071 - 22,258 = 7,813.
# No per-camera table is published: the presence fractions give the single-shot galleries of the protocol
# (96 test ids: 301 images in all-search, 112 in indoor-search, i.e. cameras 1, 2 each see ~58% of the
# identities and cameras 4, 5 ~98%); the infrared cameras 3 and 6 see 80% each (an assumption), and within
# a modality every present (identity, camera) pair gets the same number of images.
SYSU_SHAPE = Shape(splits=(296, 99, 96), presence=(0.58, 0.58, 0.8, 0.98, 0.98, 0.8),
                   images=((22258, 11909), (7813, 3803)))

# LLCM (Zhang & Wang, CVPR 2023): 1,064 identities, 46,767 images; 713 training ids with 16,946 visible and
# 13,975 near-infrared images, 351 test ids with 8,680 visible and 7,166 near-infrared images. Per-camera
# counts are not published: every one of the 17 cameras sees 45% of a split's identities.
LLCM_SHAPE = Shape(splits=(713, 351), presence=(0.45,) * 17, images=((16946, 13975), (8680, 7166)))

# name -> make_synthvi keyword arguments. Images are rendered at 192x96 for SYSU-MM01 (its crops vary in size
# and are resized to 288x144 for training; rendering at that size would take five times as long).
PRESETS = {
    "sysu": dict(format="sysu", ids=491, size=(192, 96), shape=SYSU_SHAPE),
    # RegDB (Nguyen et al., Sensors 2017): 412 identities, each 10 visible and 10 thermal images.
    "regdb": dict(format="regdb", ids=412, images_per_camera=10, size=(128, 64)),
    "llcm": dict(format="llcm", ids=1064, size=(192, 96), shape=LLCM_SHAPE),
}
