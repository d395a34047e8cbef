from .cm_embedding_head import CMEmbeddingHead
