"""The graph IR: shapes, immutable hash-consed nodes, op records' container, leaves."""
