"""symgrad: symbol-to-symbol differentiation with a NumPy compiler.

Build expressions from graph nodes, let :func:`grad` append the nodes that
compute the derivative, then print, simplify or compile forward and gradient
together into one NumPy function. The public API is listed in ``__all__``.
"""
from .graph import Node, Op, toposort, replace
from .leaves import constant, matrix, scalar, tensor, vector
from .shapes import ShapeError
from . import ops  # noqa: F401  (registers every op)
from .ops import Sample, Spec
from .graph import REGISTRY
from .functions import (abs, broadcast_to, concatenate, cos, det, diag, dot, equal, exp, eye,
                        greater, inv, less, log, log1p, log_sigmoid, log_softmax, logdet,
                        logsumexp, matmul, maximum, mean, minimum, norm, one_hot, outer, relu,
                        reshape, sigmoid, sign, sin, softmax, softplus, solve, sqrt, square,
                        stack, sum, tanh, trace, transpose, where, zeros)
from .functions import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cosh,
                        deg2rad, exp2, expm1, log10, log2, logaddexp, logaddexp2, power,
                        rad2deg, reciprocal, sinh, tan, max, min, amax, amin)
from .functions import slogdet, floor, ceil, round, around, fmax, fmin, clip
from .functions import astype
from .functions import (remainder, mod, fmod, floor_divide, trunc, sinc, nan_to_num, isfinite,
                        isnan, isinf, signbit, copysign, heaviside, select, divmod)
from .functions import cross, diagonal, einsum, inner, kron, tensordot, vdot, vecdot
from .functions import (argmax, argmin, average, count_nonzero, cumprod, cumsum, diff, prod,
                        std, var)
from .functions import take, take_along_axis
from . import linalg
from . import special
from .special import expit, logit, erf, erfc, gammaln
from .shaping_functions import (ravel, squeeze, expand_dims, atleast_1d, atleast_2d, atleast_3d,
                                moveaxis, swapaxes, flip, fliplr, flipud, rot90, roll, repeat,
                                tile, pad, vstack, hstack, dstack, column_stack, split,
                                array_split, hsplit, vsplit, dsplit, broadcast_arrays, tri, tril,
                                triu, sort, argsort, array)
from . import shaping_functions as _shaping_functions
norm = linalg.norm  # noqa: F811  (sg.norm is sg.linalg.norm: every ord and axis)
det, inv, solve, slogdet = linalg.det, linalg.inv, linalg.solve, linalg.slogdet  # noqa: F811
from .autodiff import grad, hessian, hvp, jacobian, jvp
from .compile import Function, codegen, function
from .printing import latex, pretty
from .bridges_lazy import from_sympy, to_sympy
from .networkx_bridge import op_count, to_dot, to_networkx
from .explain import explain
from .check import GradReport, check_grad
from .equivalence import EquivalenceReport, equivalent
from .rewrite import simplify
from .properties import is_psd, is_spd, is_symmetric

__version__ = "0.1.0"

__all__ = [
    "Node", "Op", "REGISTRY", "Sample", "Spec", "ShapeError",
    "scalar", "vector", "matrix", "tensor", "constant", "toposort", "replace",
    "abs", "broadcast_to", "concatenate", "cos", "det", "diag", "dot", "equal", "exp", "eye",
    "greater", "inv", "less", "log", "log1p", "log_sigmoid", "log_softmax", "logdet",
    "logsumexp", "matmul", "maximum", "mean", "minimum", "norm", "one_hot", "outer", "relu",
    "reshape", "sigmoid", "sign", "sin", "softmax", "softplus", "solve", "sqrt", "square",
    "stack", "sum", "tanh", "trace", "transpose", "where", "zeros",
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "cosh", "deg2rad",
    "exp2", "expm1", "log10", "log2", "logaddexp", "logaddexp2", "power", "rad2deg",
    "reciprocal", "sinh", "tan", "max", "min", "amax", "amin", "slogdet", "linalg",
    "floor", "ceil", "round", "around", "fmax", "fmin", "clip",
    "astype",
    "remainder", "mod", "fmod", "floor_divide", "trunc", "sinc", "nan_to_num", "isfinite",
    "isnan", "isinf", "signbit", "copysign", "heaviside", "select", "divmod",
    "special", "expit", "logit", "erf", "erfc", "gammaln",
    "cross", "diagonal", "einsum", "inner", "kron", "tensordot", "vdot", "vecdot",
    "argmax", "argmin", "average", "count_nonzero", "cumprod", "cumsum", "diff", "prod",
    "std", "var",
    "take", "take_along_axis",
    "grad", "hessian", "hvp", "jacobian", "jvp",
    "Function", "codegen", "function",
    "latex", "pretty", "to_sympy", "from_sympy", "op_count", "to_networkx", "to_dot", "explain",
    "check_grad", "equivalent", "GradReport", "EquivalenceReport",
    "simplify", "is_symmetric", "is_psd", "is_spd",
]
__all__ += _shaping_functions.__all__
