"""Fidelity audit, products, indexing and shapes: each against NumPy on sg.* and through
``np.<func>(node)`` dispatch (values, shapes, dtypes) and its gradient against finite
differences, over any rank, batch broadcasting, negative axes and 0-d/size-1 operands."""
import numpy as np
import pytest

from fidelity_harness import check_case

N = "n"
CASES = {
    "matmul 1-1": (lambda m, a, b: m.matmul(a, b), [(N, (3,)), (N, (3,))]),
    "matmul 1-2": (lambda m, a, b: a @ b, [(N, (3,)), (N, (3, 4))]),
    "matmul 2-1": (lambda m, a, b: a @ b, [(N, (4, 3)), (N, (3,))]),
    "matmul batch": (lambda m, a, b: a @ b, [(N, (2, 4, 3)), (N, (3, 5))]),
    "matmul bcast": (lambda m, a, b: m.matmul(a, b), [(N, (2, 1, 4, 3)), (N, (5, 3, 2))]),
    "matmul 1-3": (lambda m, a, b: m.matmul(a, b), [(N, (3,)), (N, (2, 3, 4))]),
    "dot 0-d": (lambda m, a, b: m.dot(a, b), [(N, ()), (N, (3,))]),
    "dot 2-3": (lambda m, a, b: m.dot(a, b), [(N, (2, 3)), (N, (4, 3, 5))]),
    "dot 3-1": (lambda m, a, b: m.dot(a, b), [(N, (2, 4, 3)), (N, (3,))]),
    "inner 2-3": (lambda m, a, b: m.inner(a, b), [(N, (2, 3)), (N, (4, 5, 3))]),
    "outer 2-2": (lambda m, a, b: m.outer(a, b), [(N, (2, 3)), (N, (2,))]),
    "vdot": (lambda m, a, b: m.vdot(a, b), [(N, (2, 3)), (N, (3, 2))]),
    "kron": (lambda m, a, b: m.kron(a, b), [(N, (2, 3)), (N, (3, 2))]),
    "kron 1-2": (lambda m, a, b: m.kron(a, b), [(N, (2,)), (N, (3, 2))]),
    "cross": (lambda m, a, b: m.cross(a, b), [(N, (4, 3)), (N, (3,))]),
    "cross axis": (lambda m, a, b: m.cross(a, b, axisa=0, axisb=0), [(N, (3, 4)), (N, (3, 4))]),
    "cross 2d": (lambda m, a, b: m.cross(a, b, axis=0), [(N, (3, 2)), (N, (3, 2))]),
    "tensordot 0": (lambda m, a, b: m.tensordot(a, b, 0), [(N, (2,)), (N, (3,))]),
    "tensordot 2": (lambda m, a, b: m.tensordot(a, b), [(N, (2, 3, 4)), (N, (3, 4, 5))]),
    "tensordot pairs": (lambda m, a, b: m.tensordot(a, b, axes=([0, 2], [2, 0])),
                        [(N, (2, 3, 4)), (N, (4, 5, 2))]),
    "tensordot neg": (lambda m, a, b: m.tensordot(a, b, axes=([-1], [0])),
                      [(N, (2, 3)), (N, (3, 4))]),
    "einsum trace": (lambda m, a: m.einsum("ii", a), [(N, (3, 3))]),
    "einsum diag": (lambda m, a: m.einsum("ii->i", a), [(N, (3, 3))]),
    "einsum batch": (lambda m, a, b: m.einsum("bij,bjk->bik", a, b), [(N, (2, 3, 4)), (N, (2, 4, 5))]),
    "einsum ellipsis": (lambda m, a, b: m.einsum("...ij,...j->...i", a, b),
                        [(N, (2, 3, 4)), (N, (4,))]),
    "einsum implicit": (lambda m, a, b: m.einsum("ij,jk", a, b), [(N, (2, 3)), (N, (3, 4))]),
    "einsum sum": (lambda m, a: m.einsum("ijk->", a), [(N, (2, 3, 4))]),
    "einsum outer3": (lambda m, a, b, c: m.einsum("i,j,k->ijk", a, b, c),
                      [(N, (2,)), (N, (3,)), (N, (2,))]),
    "einsum repeated out": (lambda m, a, b: m.einsum("ij,ij->ij", a, b), [(N, (2, 3)), (N, (2, 3))]),
    "trace": (lambda m, a: m.trace(a, offset=-1, axis1=2, axis2=0), [(N, (3, 2, 4))]),
    "diagonal": (lambda m, a: m.diagonal(a, 1, -1, 0), [(N, (3, 2, 4))]),
    "diag k": (lambda m, a: m.diag(a, k=-1), [(N, (3, 4))]),
    "diag vec": (lambda m, a: m.diag(a, 1), [(N, (3,))]),
    # indexing
    "index neg step": (lambda m, a: a[::-2, 1:], [(N, (5, 3))]),
    "index ellipsis": (lambda m, a: a[..., None, 1], [(N, (2, 3, 4))]),
    "index fancy rep": (lambda m, a: a[np.array([0, 2, 0, 0])], [(N, (3, 2))]),
    "index fancy 2d": (lambda m, a: a[np.array([[0, 1], [1, 1]]), np.array([2, 0])],
                       [(N, (2, 3))]),
    "index mixed": (lambda m, a: a[:, np.array([1, 1, 0]), 1:], [(N, (2, 3, 4))]),
    "index split adv": (lambda m, a: a[np.array([0, 1]), :, np.array([1, 2])], [(N, (2, 3, 4))]),
    "index mask": (lambda m, a: a[np.array([True, False, True])], [(N, (3, 2))]),
    "index neg int": (lambda m, a: a[-1, -2], [(N, (3, 4))]),
    "index scalar": (lambda m, a: a[()], [(N, ())]),
    "take": (lambda m, a: m.take(a, np.array([2, 0, 2]), axis=-1), [(N, (2, 3))]),
    "take flat": (lambda m, a: m.take(a, np.array([[5, 0], [1, 1]])), [(N, (2, 3))]),
    "take_along_axis": (lambda m, a: m.take_along_axis(a, np.array([[0, 2], [1, 1]]), axis=1),
                        [(N, (2, 3))]),
    "take_along_axis none": (lambda m, a: m.take_along_axis(a, np.array([5, 0, 0]), axis=None),
                             [(N, (2, 3))]),
    # shapes
    "reshape -1": (lambda m, a: m.reshape(a, (-1, 2)), [(N, (2, 3, 2))]),
    "reshape method": (lambda m, a: a.reshape(3, 4), [(N, (2, 6))]),
    "ravel": (lambda m, a: m.ravel(a), [(N, (2, 3))]),
    "flatten": (lambda m, a: a.flatten(), [(N, (2, 3))]),
    "squeeze axis": (lambda m, a: m.squeeze(a, axis=(0, -1)), [(N, (1, 3, 1))]),
    "expand_dims": (lambda m, a: m.expand_dims(a, axis=(0, -1)), [(N, (3,))]),
    "moveaxis": (lambda m, a: m.moveaxis(a, [0, 1], [-1, 0]), [(N, (2, 3, 4))]),
    "swapaxes": (lambda m, a: m.swapaxes(a, 0, -1), [(N, (2, 3, 4))]),
    "transpose axes": (lambda m, a: m.transpose(a, (1, -1, 0)), [(N, (2, 3, 4))]),
    "transpose method": (lambda m, a: a.transpose(2, 0, 1), [(N, (2, 3, 4))]),
    "T": (lambda m, a: a.T, [(N, (2, 3, 4))]),
    "flip": (lambda m, a: m.flip(a, axis=(0, 2)), [(N, (2, 3, 4))]),
    "flip none": (lambda m, a: m.flip(a), [(N, (2, 3))]),
    "rot90": (lambda m, a: m.rot90(a, k=3, axes=(1, 2)), [(N, (2, 3, 4))]),
    "roll": (lambda m, a: m.roll(a, (1, -2), axis=(0, 1)), [(N, (3, 4))]),
    "roll flat": (lambda m, a: m.roll(a, 5), [(N, (3, 4))]),
    "repeat": (lambda m, a: m.repeat(a, [1, 0, 2], axis=-1), [(N, (2, 3))]),
    "repeat flat": (lambda m, a: m.repeat(a, 2), [(N, (2, 3))]),
    "tile": (lambda m, a: m.tile(a, (2, 1, 2)), [(N, (2, 3))]),
    "pad": (lambda m, a: m.pad(a, ((1, 0), (2, 1))), [(N, (2, 3))]),
    "pad reflect": (lambda m, a: m.pad(a, 2, mode="reflect"), [(N, (3, 4))]),
    "pad edge": (lambda m, a: m.pad(a, (1, 2), mode="edge"), [(N, (3, 4))]),
    "pad symmetric": (lambda m, a: m.pad(a, 1, mode="symmetric"), [(N, (3, 4))]),
    "pad wrap": (lambda m, a: m.pad(a, 1, mode="wrap"), [(N, (3, 4))]),
    "stack": (lambda m, a, b: m.stack([a, b], axis=-1), [(N, (2, 3)), (N, (2, 3))]),
    "concatenate none": (lambda m, a, b: m.concatenate([a, b], axis=None), [(N, (2, 3)), (N, (3,))]),
    "vstack": (lambda m, a, b: m.vstack([a, b]), [(N, (3,)), (N, (2, 3))]),
    "hstack": (lambda m, a, b: m.hstack([a, b]), [(N, (3,)), (N, (2,))]),
    "dstack": (lambda m, a, b: m.dstack([a, b]), [(N, (3,)), (N, (1, 3))]),
    "column_stack": (lambda m, a, b: m.column_stack([a, b]), [(N, (3,)), (N, (3, 2))]),
    "split": (lambda m, a: tuple(m.split(a, [1, 3], axis=-1)), [(N, (2, 4))]),
    "array_split": (lambda m, a: tuple(m.array_split(a, 3)), [(N, (5, 2))]),
    "hsplit": (lambda m, a: tuple(m.hsplit(a, 2)), [(N, (2, 4))]),
    "broadcast_to": (lambda m, a: m.broadcast_to(a, (2, 3, 4)), [(N, (3, 1))]),
    "tril": (lambda m, a: m.tril(a, k=-1), [(N, (2, 3, 4))]),
    "triu": (lambda m, a: m.triu(a, 1), [(N, (3, 4))]),
    "sort": (lambda m, a: m.sort(a, axis=0), [(N, (3, 4))]),
    "sort none": (lambda m, a: m.sort(a, axis=None), [(N, (3, 4))]),
    "argsort": (lambda m, a: m.argsort(a, axis=-1), [(N, (3, 4))]),
    "atleast_2d": (lambda m, a: m.atleast_2d(a), [(N, (3,))]),
    "atleast_3d": (lambda m, a: m.atleast_3d(a), [(N, (2, 3))]),
    "atleast_1d 0d": (lambda m, a: m.atleast_1d(a), [(N, ())]),
    "squeeze 0d": (lambda m, a: m.squeeze(a), [(N, (1, 1))]),
    "fliplr": (lambda m, a: m.fliplr(a), [(N, (2, 3))]),
    "cumsum 0d": (lambda m, a: m.cumsum(a), [(N, ())]),
    "where 1arg-like": (lambda m, a, b: m.where(a > b, a, 0.0), [(N, (2, 3)), (N, (3,))]),
    "maximum scalar": (lambda m, a: m.maximum(a, 0.0), [(N, (2, 3))]),
    "mean method": (lambda m, a: a.mean(axis=-1, keepdims=True), [(N, (2, 3))]),
    "var method": (lambda m, a: a.var(ddof=1), [(N, (2, 3))]),
    "std method": (lambda m, a: a.std(axis=0), [(N, (2, 3))]),
    "prod method": (lambda m, a: a.prod(axis=1), [(N, (2, 3))]),
    "max method": (lambda m, a: a.max(axis=(0, 1)), [(N, (2, 3))]),
    "sum method": (lambda m, a: a.sum(-1), [(N, (2, 3))]),
    "clip method": (lambda m, a: a.clip(-0.5, 0.5), [(N, (2, 3))]),
    "dot method": (lambda m, a, b: a.dot(b), [(N, (2, 3)), (N, (3,))]),
    "cumsum method": (lambda m, a: a.cumsum(axis=0), [(N, (2, 3))]),
    "argmax method": (lambda m, a: a.argmax(axis=1), [(N, (2, 3))]),
    "trace method": (lambda m, a: a.trace(), [(N, (3, 3))]),
    "diagonal method": (lambda m, a: a.diagonal(1), [(N, (3, 3))]),
    "swapaxes method": (lambda m, a: a.swapaxes(0, 1), [(N, (2, 3))]),
    "squeeze method": (lambda m, a: a.squeeze(0), [(N, (1, 3))]),
    "astype": (lambda m, a: a.astype(np.int64), [(N, (2, 3))]),
    "round method": (lambda m, a: a.round(1), [(N, (2, 3))]),
    "any method": (lambda m, a: (a > 0).any(axis=0), [(N, (2, 3))]),
    "nonzero-free where": (lambda m, a: m.where(a > 0), None),
}
DISPATCH_SKIP = {"reshape method", "flatten", "transpose method", "T", "dot method",
                 "mean method", "var method", "std method", "prod method", "max method",
                 "sum method", "clip method", "cumsum method", "argmax method", "trace method",
                 "diagonal method", "swapaxes method", "squeeze method", "astype",
                 "round method", "any method"}
RUN = [k for k, v in CASES.items() if v[1] is not None]


@pytest.mark.parametrize("name", RUN)
def test_case(name):
    fn, specs = CASES[name]
    check_case(fn, specs)


@pytest.mark.parametrize("name", [k for k in RUN if k not in DISPATCH_SKIP and not
                                  k.startswith("index")])
def test_case_through_numpy_dispatch(name):
    fn, specs = CASES[name]
    check_case(fn, specs, module=np)


def test_node_attributes_as_numpy():
    import symgrad as sg
    x = sg.tensor("x", (2, 3, 4))
    assert x.dtype == np.float64 and x.dtype == np.dtype("float64")
    assert (x.ndim, x.size, x.shape) == (3, 24, (2, 3, 4))
    assert len(x) == 2
    assert sg.tensor("k", (2,), dtype="int64").dtype == np.int64
    with pytest.raises(TypeError):
        np.asarray(x)
    with pytest.raises(TypeError):
        len(sg.scalar("s"))


def test_trace_accepts_numpys_float64_dtype():
    check_case(lambda m, a: m.trace(a, dtype=np.float64), [("n", (3, 3))])
    import symgrad as sg
    with pytest.raises(TypeError):
        sg.trace(sg.matrix("A", (2, 2)), dtype=np.int64)


@pytest.mark.parametrize("mode", ["clip", "wrap"])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_take_modes(mode, axis):
    idx = np.array([[5, -7], [1, 2]])
    check_case(lambda m, a: m.take(a, idx, axis=axis, mode=mode), [("n", (3, 4))])
    check_case(lambda m, a, i: m.take(a, i, axis=axis, mode=mode), [("n", (3, 4)), ("i", (5,))])


@pytest.mark.parametrize("shape", [(3, 2), (-1,), (2, -1, 1), 6])
def test_reshape_fortran_order(shape):
    check_case(lambda m, a: m.reshape(a, shape, order="F"), [("n", (2, 3))])
    check_case(lambda m, a: m.reshape(a, shape, order="F"), [("n", (2, 3))], module=np)


def test_more_array_methods_as_numpy():
    check_case(lambda m, a: a.argpartition(1, axis=0)[1:2], [("n", (4, 3))])  # the kth: unique
    sorted_values = np.array([0.0, 1.0, 2.5])
    import symgrad as sg
    a = sg.vector("a", 3)
    np.testing.assert_array_equal(sg.function([a], a.searchsorted(np.array([0.5, 3.0])))(
        sorted_values), sorted_values.searchsorted([0.5, 3.0]))
    k = sg.vector("k", 3, dtype="int64")
    choices = [np.arange(3.0), -np.arange(3.0)]
    np.testing.assert_array_equal(sg.function([k], k.choose(choices))(np.array([0, 1, 1])),
                                  np.array([0, 1, 1]).choose(choices))


INPUT_INDEX = {
    "a[i]": (lambda m, a, i: a[i], [("n", (4, 3)), ("i", (5,))]),
    "a[:, i]": (lambda m, a, i: a[:, i], [("n", (3, 4)), ("i", (2, 2))]),
    "a[i, i]": (lambda m, a, i: a[i, i], [("n", (4, 4)), ("i", (6,))]),
    "take i": (lambda m, a, i: m.take(a, i, axis=-1), [("n", (2, 4)), ("i", (3,))]),
    "take_along i": (lambda m, a, i: m.take_along_axis(a, i, axis=0), [("n", (4, 3)), ("i", (2, 3))]),
}


@pytest.mark.parametrize("name", list(INPUT_INDEX))
def test_indices_given_as_inputs(name):
    fn, specs = INPUT_INDEX[name]
    # indices drawn in [-3, 3]: valid for every axis of size >= 4 (negative ones wrap)
    check_case(fn, specs, seed=5)


@pytest.mark.parametrize("kind", ["n", "i"])
def test_where_reads_a_non_bool_condition_as_nonzero(kind):
    check_case(lambda m, c, x, y: m.where(c, x, y), [(kind, (2, 3)), ("n", (2, 3)), ("n", (3,))])
    check_case(lambda m, c, x, y: m.where(c * 0, x, y), [(kind, (2, 3)), ("n", (2, 3)), ("n", (3,))])
