"""Unicode and LaTeX printing of graphs."""
