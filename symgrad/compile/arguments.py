"""Call-time arguments of compiled functions: matching, conversion, checks.

Two paths. The *fast path* is a small checker generated once per function: a
single boolean expression, true when every argument is already an ndarray of
the input's dtype, rank and sizes (named dimensions consistent), or for a 0-d
float64 input a NumPy float64 scalar (a Python float is converted to one
first). It costs about 25 ns per scalar input and a few tens per array input,
against about a microsecond per input for the general path. Whenever it says no, the *general path* runs: it converts lists and
scalars, casts safely, binds named dimensions and raises an error naming the
offending input. Both accept exactly the same calls with the same results.
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import Node
from ..ir.shapes import bind_dims, format_shape

_ALLOWED_KINDS = {"float64": "fiub", "int64": "iub", "bool": "b"}
_DTYPES = {name: np.dtype(name) for name in _ALLOWED_KINDS}  # np.dtype(name) costs ~0.3 µs a call
FLOAT64 = _DTYPES["float64"]


#: Array libraries whose arrays the NumPy backend refuses instead of converting (a Dask
#: array would be computed onto this machine, a GPU tensor copied to the host).
FOREIGN_LIBRARIES = frozenset({"array_api_strict", "cupy", "dask", "jax", "mlx",
                               "sparse", "tensorflow", "torch"})


def _library(value) -> str:
    """The array library ``value``'s type comes from (its top-level module; JAX's
    arrays live in ``jaxlib``)."""
    root = type(value).__module__.partition(".")[0]
    return "jax" if root == "jaxlib" else root


def foreign_library(value) -> str | None:
    """The array library of ``value`` when it is another library's array, else None."""
    if isinstance(value, (np.ndarray, np.generic)):
        return None
    library = _library(value)
    if library in FOREIGN_LIBRARIES or hasattr(value, "__dask_graph__"):
        return library
    if hasattr(value, "__array_namespace__"):
        return library or type(value).__name__
    return None


def convert(node: Node, value, who: str) -> np.ndarray:
    """``value`` as an array of the input's dtype, or a TypeError naming it."""
    library = foreign_library(value)
    if library is not None:
        raise TypeError(f"{who} is a {library} array ({type(value).__name__}): backend='numpy' "
                        f"does not convert it; compile with backend='array_api' (or "
                        f"'jax') to run on {library} arrays, or pass a NumPy array")
    try:
        array = np.asarray(value)
    except Exception as err:
        raise TypeError(f"{who}: cannot convert {type(value).__name__} to an array ({err})") from None
    kind, want = array.dtype.kind, node.dtype.name
    if kind not in _ALLOWED_KINDS[want]:
        raise TypeError(f"{who} must be {want}, got {array.dtype} (not safely castable)")
    if kind == "u" and want == "int64" and array.size and array.max() > np.iinfo(np.int64).max:
        raise TypeError(f"{who}: values too large for int64")
    return array if array.dtype == want else array.astype(want)


def match_arguments(name: str, inputs, positions: dict, args, kwargs) -> list:
    """Values in ``inputs`` order from positional and keyword arguments."""
    if len(args) > len(inputs):
        raise TypeError(f"{name}() takes {len(inputs)} inputs, got {len(args)}")
    values = list(args) + [None] * (len(inputs) - len(args))
    given = [True] * len(args) + [False] * (len(inputs) - len(args))
    for key, value in kwargs.items():
        if key not in positions:
            raise TypeError(f"{name}() got an unknown input {key!r}; inputs are "
                            f"{[n.name for n in inputs]}")
        i = positions[key]
        if given[i]:
            raise TypeError(f"{name}() got input {key!r} twice")
        values[i], given[i] = value, True
    for node, ok in zip(inputs, given):
        if not ok:
            raise TypeError(f"{name}() is missing input {node.name!r} {format_shape(node.shape)}")
    return values


def bind_arguments(inputs, values) -> tuple:
    """(checked arrays, {dimension name: size}); errors name the input."""
    bindings: dict = {}
    arrays = []
    for node, value in zip(inputs, values):
        if node.shape == () and type(value) is float and node.dtype is FLOAT64:
            arrays.append(np.float64(value))  # a Python float: NumPy's float64 semantics
            continue
        who = f"input {node.name!r}"
        array = convert(node, value, who)
        bind_dims(node.shape, array.shape, bindings, who)
        arrays.append(array)
    return arrays, {name: size for name, (size, _) in bindings.items()}


#: Above this many inputs the checker is a loop over a table (compiling one
#: huge boolean expression would cost more than the calls it saves).
GENERATED_LIMIT = 512


def fast_checker(inputs):
    """A function of the positional arguments: the arguments to call the generated
    function with (Python floats for 0-d float64 inputs become NumPy float64
    scalars) when they need no other conversion and pass every dtype, rank and
    size test; None when the general path must run (it converts, or raises the
    error naming the input). Cheapest tests first: a NumPy float64 scalar is
    settled by its type alone (its dtype and rank are fixed), a ``.dtype``
    read costs ~15 type tests."""
    if len(inputs) > GENERATED_LIMIT:
        return _table_checker(inputs)
    params = [f"a{i}" for i in range(len(inputs))]
    converts, tests, first_seen = [], [], {}
    for param, node in zip(params, inputs):
        if node.shape == () and node.dtype is FLOAT64:
            converts.append(f"    if type({param}) is float:\n        {param} = float64({param})")
            tests.append(f"(type({param}) is float64 or type({param}) is ndarray"
                         f" and {param}.dtype is float64_ and {param}.ndim == 0)")
            continue
        tests += [f"type({param}) is ndarray", f"{param}.dtype is {node.dtype.name}_"]
        tests += _shape_tests(param, node.shape, first_seen)
    body = "\n        and ".join(tests) or "True"
    arguments = "".join(f"{p}, " for p in params)
    source = (f"def fast_check({', '.join(params)}):\n" + "".join(c + "\n" for c in converts)
              + f"    if ({body}):\n        return ({arguments})\n    return None\n")
    namespace = {"ndarray": np.ndarray, "float64": np.float64,
                 **{f"{name}_": dtype for name, dtype in _DTYPES.items()}}
    exec(compile(source, "<symgrad argument checker>", "exec"), namespace)
    return namespace["fast_check"]


def _shape_tests(param: str, shape: tuple, first_seen: dict) -> list:
    """The tests of ``param``'s shape: one tuple comparison when every size is static
    (``a.shape`` builds a tuple per read: one read, ~40 ns), else the rank and each
    size against its number or the first axis with the same name (``first_seen``),
    the shape read once into ``s_<param>``."""
    if all(isinstance(dim, int) for dim in shape):
        return [f"{param}.shape == {tuple(shape)!r}"]
    held = f"s_{param}"
    tests = [f"len({held} := {param}.shape) == {len(shape)}"]
    for axis, dim in enumerate(shape):
        size = f"{held}[{axis}]"
        if isinstance(dim, int):
            tests.append(f"{size} == {dim}")
        elif dim in first_seen:
            tests.append(f"{size} == {first_seen[dim]}")
        else:
            first_seen[dim] = size
    return tests


def _table_checker(inputs):
    """The fast-path test as a loop: (dtype, shape) per input, named sizes bound on the way."""
    table = [(node.dtype, node.shape, node.shape == () and node.dtype is FLOAT64)
             for node in inputs]

    def fast_check(*args):
        sizes: dict = {}
        checked = []
        for value, (dtype, shape, scalar) in zip(args, table):
            if scalar and type(value) is float:
                value = np.float64(value)
            if scalar and type(value) is np.float64:
                checked.append(value)
                continue
            if type(value) is not np.ndarray or value.dtype is not dtype or value.ndim != len(shape):
                return None
            for dim, size in zip(shape, value.shape):
                expected = sizes.setdefault(dim, size) if isinstance(dim, str) else dim
                if expected != size:
                    return None
            checked.append(value)
        return checked
    return fast_check


# The array-API backends: checked, never converted ----------------------------------------

#: The dtypes an input of each dtype accepts (by name: every library spells them so):
#: a float64 input any real floating array (computed in its precision), an int64 input
#: any integer array, a bool input a bool array.
PORTABLE_DTYPES = {"float64": {"float64", "float32", "float16", "bfloat16"},
                   "int64": {"int64", "int32", "int16", "int8", "uint8", "uint16", "uint32"},
                   "bool": {"bool"}}


_DTYPE_NAMES: dict = {}  # NumPy dtype (JAX's and Dask's arrays have them) -> its name


def _dtype_name(dtype) -> str:
    """``float64`` for any library's float64 (``torch.float64`` too); a NumPy dtype's
    name (``str``/``.name`` cost ~3 us) looked up once."""
    name = _DTYPE_NAMES.get(dtype) if isinstance(dtype, np.dtype) else None
    if name is None:
        name = str(dtype).rpartition(".")[2]
        if isinstance(dtype, np.dtype):
            _DTYPE_NAMES[dtype] = name
    return name


def portable_arguments(inputs, values, backend: str, accepted: set | None = None) -> tuple:
    """(arguments to call with, their array library) for an array-API backend: each
    argument's rank, dtype and named sizes checked (sizes Dask does not know yet,
    NaN, are not); nothing converted, except NumPy arguments next to Dask ones
    (promoted to one-chunk Dask arrays: small parameters with chunked data) and
    Python scalars for 0-d inputs (arrays of the others' library). Any other mix
    of libraries is a TypeError naming the inputs. ``accepted`` (JAX: nothing is
    converted) holds the (type, shape, dtype) signatures of arguments already checked,
    passed without checking again (~1 us instead of ~5 for five arguments)."""
    signature = None
    if accepted is not None:
        try:
            signature = tuple([(type(v), v.shape, v.dtype) for v in values])
            if signature in accepted:
                return list(values), backend
        except (AttributeError, TypeError):  # a scalar, or an unhashable shape or dtype:
            signature = None                 # checked every time
    bindings: dict = {}
    libraries: dict = {}  # library -> names of the inputs from it
    for node, value in zip(inputs, values):
        who = f"input {node.name!r}"
        if isinstance(value, (bool, int, float)) and node.shape == ():
            continue
        shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
        if shape is None or dtype is None:
            raise TypeError(f"{who} must be an array for backend={backend!r}, got "
                            f"{type(value).__name__} (arguments are not converted)")
        name = _dtype_name(dtype)
        if name not in PORTABLE_DTYPES[_dtype_name(node.dtype)]:
            raise TypeError(f"{who} must be {node.dtype.name}, got {name} "
                            f"(backend={backend!r} does not convert arguments)")
        if shape != node.shape:  # equal: all sizes fixed and right, nothing to bind
            known = tuple(-1 if isinstance(d, float) else int(d) for d in shape)  # NaN: unknown
            if len(known) != node.ndim or -1 not in known:
                bind_dims(node.shape, known, bindings, who)
        libraries.setdefault(_library(value), []).append(node.name)
    if backend == "jax":
        if signature is not None and len(accepted) < 16:
            accepted.add(signature)
        return list(values), "jax"
    if backend == "dask" and "dask" not in libraries:
        raise TypeError(f"backend='dask' runs on Dask arrays (NumPy parameters may go with "
                        f"them); no input is one, got {', '.join(sorted(libraries))} arrays")
    return _one_library(inputs, list(values), libraries)


def _one_library(inputs, values: list, libraries: dict) -> tuple:
    if len(libraries) > 1 and set(libraries) != {"dask", "numpy"}:
        found = "; ".join(f"{lib}: {', '.join(map(repr, names))}" for lib, names in libraries.items())
        raise TypeError(f"the inputs come from different array libraries ({found}); "
                        "pass arrays of one library (NumPy parameters may go with Dask data)")
    library = "dask" if "dask" in libraries else next(iter(libraries), "numpy")
    if library == "dask" and "numpy" in libraries:
        import dask.array as da
        values = [da.from_array(np.asarray(v), chunks=-1) if isinstance(v, (np.ndarray, np.generic)) else v
                  for v in values]
    scalars = [i for i, (node, v) in enumerate(zip(inputs, values))
               if node.shape == () and isinstance(v, (bool, int, float))]
    if scalars:
        from array_api_compat import array_namespace
        arrays = [v for i, v in enumerate(values) if i not in scalars]
        xp = array_namespace(*arrays) if arrays else array_namespace(np.empty(0))
        for i in scalars:
            values[i] = xp.asarray(values[i], dtype=getattr(xp, inputs[i].dtype.name))
    return values, library
