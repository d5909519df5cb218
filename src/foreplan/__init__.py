"""foreplan: plan every step up front (ReWOO), call tools in parallel, solve from the evidence."""

__version__ = "0.1.0"
