from .cm_embedding_head import CMEmbeddingHead

__all__ = ["CMEmbeddingHead"]
