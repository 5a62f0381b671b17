"""Knowledge index of the OCOP program documents: ingest, embed, FAISS + BM25 search."""
