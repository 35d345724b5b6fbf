"""Storage layer: metadata and content-addressed blobs."""
