"""symgrad: symbol-to-symbol differentiation with a NumPy compiler.

Build expressions from graph nodes, let :func:`grad` append the nodes that
compute the derivative, then print, simplify or compile forward and gradient
together into one NumPy function. The public API is listed in ``__all__``.
"""
from .ir.graph import Node, Op, toposort
from .rewrite.engine import replace
from .ir.leaves import constant, matrix, scalar, tensor, vector
from .ir.shapes import ShapeError
from . import ops  # noqa: F401  (registers every op)
from .ops import Sample, Spec
from .ir.graph import REGISTRY
from .api.functions import (abs, broadcast_to, concatenate, cos, det, diag, dot, equal, exp, eye,
                        greater, inv, less, log, log1p, log_sigmoid, log_softmax, logdet,
                        logsumexp, matmul, maximum, mean, minimum, norm, one_hot, outer, relu,
                        reshape, sigmoid, sign, sin, softmax, softplus, solve, sqrt, square,
                        stack, sum, tanh, trace, transpose, where, zeros)
from .api.functions import (arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cosh,
                        deg2rad, exp2, expm1, log10, log2, logaddexp, logaddexp2, power,
                        rad2deg, reciprocal, sinh, tan, max, min, amax, amin)
from .api.functions import slogdet, floor, ceil, round, around, fmax, fmin, clip
from .api.functions import astype
from .api.functions import (remainder, mod, fmod, floor_divide, trunc, sinc, nan_to_num, isfinite,
                        isnan, isinf, signbit, copysign, heaviside, select, divmod)
from .api.functions import cross, diagonal, einsum, inner, kron, tensordot, vdot, vecdot
from .api.functions import (argmax, argmin, average, count_nonzero, cumprod, cumsum, diff, prod,
                        std, var)
from .api.functions import take, take_along_axis
from . import linalg
from . import special
from .special import expit, logit, erf, erfc, gammaln
from .api.shaping import (ravel, squeeze, expand_dims, atleast_1d, atleast_2d, atleast_3d,
                                moveaxis, swapaxes, flip, fliplr, flipud, rot90, roll, repeat,
                                tile, pad, vstack, hstack, dstack, column_stack, split,
                                array_split, hsplit, vsplit, dsplit, broadcast_arrays, tri, tril,
                                triu, sort, argsort, partition, argpartition, array)
from .api import shaping as _shaping_functions
from .api import statistics as _statistics
from .api.statistics import *  # noqa: F401,F403  (its __all__: NumPy names, composites)
from .api import lookups as _lookups
from .api.lookups import *  # noqa: F401,F403
from .api.numpy_names import (add, subtract, multiply, divide, true_divide, negative, absolute,
                              fabs, degrees, radians, row_stack, real, conj, conjugate,
                              real_if_close, imag, angle, hypot, rollaxis, append, linspace,
                              gradient, r_, c_, float64, int64, bool_, acos, asin, atan,
                              acosh, asinh, atanh, atan2, pow, unstack, isclose, allclose,
                              ndim, shape, size, isposinf, isneginf, isreal, iscomplex,
                              isrealobj, iscomplexobj, ldexp, modf, array_equal)
norm = linalg.norm  # noqa: F811  (sg.norm is sg.linalg.norm: every ord and axis)
det, inv, solve, slogdet = linalg.det, linalg.inv, linalg.solve, linalg.slogdet  # noqa: F811
from .autodiff.sweeps import grad, hessian, hvp, jacobian, jvp
from .compile.emit import Function, codegen, function
from .printing.unicode import pretty
from .printing.latex import latex
from .bridges import from_sympy, to_sympy
from .bridges.networkx import op_count, to_dot, to_networkx
from .check.explain import explain
from .check.gradients import GradReport, check_grad
from .check.equivalence import EquivalenceReport, equivalent
from .rewrite import simplify
from .analysis.properties import is_psd, is_spd, is_symmetric

from .version import __version__

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
    "partition", "argpartition",
    "add", "subtract", "multiply", "divide", "true_divide", "negative", "absolute", "fabs",
    "degrees", "radians", "row_stack", "real", "conj", "conjugate", "real_if_close", "imag",
    "angle", "hypot", "rollaxis", "append", "linspace", "gradient", "r_", "c_", "float64",
    "int64", "bool_", "acos", "asin", "atan", "acosh", "asinh", "atanh", "atan2", "pow",
    "unstack", "isclose", "allclose", "ndim", "shape", "size", "isposinf", "isneginf",
    "isreal", "iscomplex", "isrealobj", "iscomplexobj", "ldexp", "modf", "array_equal",
    "grad", "hessian", "hvp", "jacobian", "jvp",
    "Function", "codegen", "function",
    "latex", "pretty", "to_sympy", "from_sympy", "op_count", "to_networkx", "to_dot", "explain",
    "check_grad", "equivalent", "GradReport", "EquivalenceReport",
    "simplify", "is_symmetric", "is_psd", "is_spd",
] + _statistics.__all__ + _lookups.__all__
__all__ += _shaping_functions.__all__
