"""The hosted, stateless web proxy: renders pages and forwards patient actions over the link."""
