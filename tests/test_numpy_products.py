"""Products of any rank against NumPy: values, gradients and second derivatives vs
central finite differences, shapes with named dimensions, build-time errors."""
import warnings

import numpy as np
import pytest

import symgrad as sg
from symgrad.check.numeric import central_difference

RNG = np.random.default_rng(0)


def _inputs(shapes):
    nodes = [sg.tensor(f"x{i}", s) for i, s in enumerate(shapes)]
    values = [RNG.standard_normal(s) for s in shapes]
    return nodes, values


def _check(build, reference, *shapes, rtol=1e-10):
    """Value against NumPy, gradient of a weighted sum against finite differences."""
    nodes, values = _inputs(shapes)
    out = build(*nodes)
    expected = reference(*values)
    result = sg.function(nodes, out)(*values)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(result, expected, rtol=rtol, atol=1e-12)
    weights = RNG.standard_normal(np.shape(expected))
    cost = sg.sum(out * weights)
    grads = sg.function(nodes, sg.grad(cost, nodes))(*values)
    value = sg.function(nodes, cost)
    for i, g in enumerate(grads):
        numeric = central_difference(value, values, i)
        np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-7, err_msg=f"operand {i}")
    return out


EINSUMS = [
    ("ij,jk->ik", (2, 3), (3, 4)), ("ij,jk", (2, 3), (3, 4)), ("ii->i", (3, 3)), ("ii", (3, 3)),
    ("ij->ji", (2, 3)), ("ij", (2, 3)), ("ji", (2, 3)), ("ij->", (2, 3)), ("i,i", (4,), (4,)),
    ("i,j", (2,), (3,)), ("bij,bjk->bik", (4, 2, 3), (4, 3, 2)), ("...ij,...jk", (5, 2, 3), (3, 2)),
    ("...ij,...jk->...ik", (2, 1, 2, 3), (4, 3, 2)), ("i...->...", (3, 2, 2)),
    ("...ii->...i", (2, 3, 3)), ("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)), ("iij->j", (2, 2, 3)),
    ("ij,ij->ij", (2, 3), (1, 3)), ("ij,j->i", (2, 3), (1,)), ("ab,Cb->aC", (2, 3), (4, 3)),
    ("aB,Cd", (2, 3), (4, 5)), ("Ba,aB", (2, 3), (3, 2)), ("iji->j", (2, 3, 2)), ("i->", (3,)),
    (",ij->ij", (), (2, 3)), ("ijk,jkl->il", (2, 3, 4), (3, 4, 2)), ("i,i,i->", (3,), (3,), (3,)),
]


@pytest.mark.parametrize("spec_shapes", EINSUMS, ids=lambda s: s[0])
def test_einsum_matches_numpy_and_finite_differences(spec_shapes):
    spec, *shapes = spec_shapes
    _check(lambda *x: sg.einsum(spec, *x), lambda *v: np.einsum(spec, *v), *shapes)


def test_two_dimensional_einsum_products_are_matmul_nodes():
    A, B, x = sg.matrix("A", ("n", "m")), sg.matrix("B", ("m", "k")), sg.vector("x", "m")
    assert sg.einsum("ij,jk->ik", A, B) is A @ B
    assert sg.einsum("ij,kj->ki", B.T, A) is A @ B
    assert sg.einsum("ij,j", A, x) is A @ x
    assert sg.einsum("i,i", x, x) is x @ x
    assert str(sg.einsum("ij,jk", A, B)) == "A @ B"
    C = sg.matrix("C", ("m", "n"))
    assert sg.equivalent(sg.einsum("ij,jk", A, C), (C.T @ A.T).T).method == "symbolic"


def test_einsum_interleaved_form_and_dispatch():
    (a, b), (va, vb) = _inputs([(2, 3), (3, 4)])
    node = sg.einsum(a, [0, 1], b, [1, 2], [0, 2])
    assert node is sg.einsum("ab,bc->ac", a, b) is a @ b
    dispatched = np.einsum("ij,jk->ik", a, b, optimize=True)
    np.testing.assert_allclose(sg.function([a, b], dispatched)(va, vb), va @ vb)
    np.testing.assert_allclose(sg.function([a, b], node)(va, vb), va @ vb)


def test_einsum_keeps_named_dimensions():
    A, B = sg.tensor("A", ("b", "n", "m")), sg.tensor("B", ("m", "k"))
    assert sg.einsum("bnm,mk->bnk", A, B).shape == ("b", "n", "k")
    assert sg.einsum("...ij,jk", A, B).shape == ("b", "n", "k")
    assert sg.einsum("ii", sg.matrix("S", ("n", "n"))).shape == ()
    assert (A @ B).shape == ("b", "n", "k")
    f = sg.function([A, B], A @ B)
    va, vb = RNG.standard_normal((3, 2, 4)), RNG.standard_normal((4, 5))
    np.testing.assert_allclose(f(va, vb), va @ vb)


@pytest.mark.parametrize("spec,shapes,message", [
    ("ij,jk->ik", [(2, 3), (4, 2)], "label 'j'"),
    ("ij->ii", [(2, 2)], "more than once"),
    ("ij,j->k", [(2, 3), (3,)], "never appears"),
    ("ij", [(2, 3), (3,)], "for 1 operands, got 2"),
    ("ij,j->i", [(2, 3, 4), (4,)], "no '...'"),
    ("i1->i", [(2, 3)], "letters"),
    ("...i->i", [(2, 3)], "'...'"),
])
def test_einsum_errors_at_build_time(spec, shapes, message):
    nodes = [sg.tensor(f"e{i}", s) for i, s in enumerate(shapes)]
    with pytest.raises(ValueError) as numpy_error:
        np.einsum(spec, *[np.ones(s) for s in shapes])
    with pytest.raises(ValueError, match=message):
        sg.einsum(spec, *nodes)
    assert numpy_error.value


def test_einsum_shape_error_names_op_and_shapes():
    a, b = sg.tensor("a", (2, 3)), sg.tensor("b", ("n", 2))
    with pytest.raises(sg.ShapeError, match=r"einsum\('a' \(2, 3\), 'b' \(n, 2\)\).*label 'j'"):
        sg.einsum("ij,jk", a, b)


MATMULS = [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((5, 2, 3), (3, 4)),
           ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)),
           ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((1, 2, 3), (4, 3, 2))]


@pytest.mark.parametrize("shapes", MATMULS, ids=str)
def test_matmul_broadcasts_batches_like_numpy(shapes):
    _check(lambda a, b: a @ b, np.matmul, *shapes)
    _check(sg.matmul, np.matmul, *shapes)


def test_two_dimensional_products_keep_the_matmul_op():
    A, B, x = sg.matrix("A", (2, 3)), sg.matrix("B", (3, 4)), sg.vector("x", 3)
    for node in (A @ B, sg.dot(A, B), sg.tensordot(A, B, 1), A @ x, sg.inner(x, x),
                 sg.inner(A, B.T), sg.vdot(x, x)):
        assert node.op is sg.REGISTRY["matmul"] or node.operands[0].op is sg.REGISTRY["matmul"]
    assert str(A @ B) == "A @ B"
    assert "np.dot(A, B)" in sg.function([A, B], A @ B).source
    assert sg.outer(x, x).op is sg.REGISTRY["outer"]


def test_batched_matmul_lowers_to_np_matmul():
    A, B = sg.tensor("A", ("b", 2, 3)), sg.tensor("B", (3, 4))
    source = sg.function([A, B], A @ B).source
    assert "np.matmul(A, B)" in source


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((2, 3, 4), (4,)), ((2, 3, 4), (5, 4, 2)),
                                    ((4,), (2, 4, 3)), ((), (2, 3)), ((3,), (3,))], ids=str)
def test_dot_matches_numpy(shapes):
    _check(sg.dot, np.dot, *shapes)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 3), (4, 3)),
                                    ((2, 3, 4), (5, 4)), ((2, 4), (3, 2, 4)), ((), (2, 3))], ids=str)
def test_inner_matches_numpy(shapes):
    _check(sg.inner, np.inner, *shapes)


@pytest.mark.parametrize("shapes,axes", [
    (((2, 3, 4), (3, 4, 5)), 2), (((2, 3), (3, 4)), 1), (((2, 3), (4, 5)), 0),
    (((2, 3, 4), (4, 3, 2)), ([1, 2], [1, 0])), (((2, 3, 4), (2, 5)), (0, 0)),
    (((3, 4), (3, 4)), ([0, 1], [0, 1])), (((2, 3, 4), (4, 3)), ([-1, -2], [0, 1]))], ids=str)
def test_tensordot_matches_numpy(shapes, axes):
    _check(lambda a, b: sg.tensordot(a, b, axes), lambda a, b: np.tensordot(a, b, axes), *shapes)


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3), (3, 2)), ((4,), (4,)),
                                    ((2, 2, 2), (8,))], ids=str)
def test_vdot_matches_numpy(shapes):
    _check(sg.vdot, np.vdot, *shapes)


@pytest.mark.parametrize("shapes", [((3,), (2,)), ((2, 3), (3, 2)), ((), (3,)), ((2, 2), ())],
                         ids=str)
def test_outer_flattens_like_numpy(shapes):
    _check(sg.outer, np.outer, *shapes)


@pytest.mark.parametrize("shapes", [((2,), (3,)), ((2, 3), (4, 5)), ((2, 3), (4,)), ((3,), (2, 2)),
                                    ((2, 1, 3), (2, 2, 1)), ((), (3,))], ids=str)
def test_kron_matches_numpy(shapes):
    _check(sg.kron, np.kron, *shapes)


@pytest.mark.parametrize("shapes,kwargs", [
    (((3,), (3,)), {}), (((4, 3), (3,)), {}), (((2, 1, 3), (4, 3)), {}),
    (((3, 4), (4, 3)), {"axisa": 0}), (((3, 2), (3, 2)), {"axis": 0}),
    (((3, 2), (2, 3)), {"axisa": 0, "axisc": 0}), (((2,), (2,)), {}), (((4, 2), (4, 3)), {})],
    ids=str)
def test_cross_matches_numpy(shapes, kwargs):
    with warnings.catch_warnings():  # NumPy 2 deprecates 2-vectors; still supported
        warnings.simplefilter("ignore", DeprecationWarning)
        _check(lambda a, b: sg.cross(a, b, **kwargs), lambda a, b: np.cross(a, b, **kwargs),
               *shapes)


def test_cross_rejects_other_lengths():
    with pytest.raises(ValueError, match="incompatible dimensions for cross product"):
        sg.cross(sg.vector("a", 4), sg.vector("b", 4))


@pytest.mark.parametrize("shape,kwargs", [
    ((3, 3), {}), ((3, 4), {}), ((4, 3), {"offset": 1}), ((3, 4), {"offset": -2}),
    ((2, 3, 4), {"offset": 1, "axis1": 1, "axis2": 2}), ((2, 3, 4), {"axis1": 2, "axis2": 0}),
    ((3, 3), {"axis1": 1, "axis2": 0, "offset": 1}), ((2, 3), {"offset": 5})], ids=str)
def test_trace_and_diagonal_match_numpy(shape, kwargs):
    _check(lambda a: sg.trace(a, **kwargs), lambda a: np.trace(a, **kwargs), shape)
    _check(lambda a: sg.diagonal(a, **kwargs), lambda a: np.diagonal(a, **kwargs), shape)


@pytest.mark.parametrize("shape,k", [((3,), 0), ((3,), 1), ((3,), -2), ((3, 3), 0), ((3, 4), 1),
                                     ((4, 3), -1), ((2, 3), 0)], ids=str)
def test_diag_matches_numpy(shape, k):
    _check(lambda a: sg.diag(a, k), lambda a: np.diag(a, k), shape)


def test_square_trace_and_diag_keep_their_ops():
    X = sg.matrix("X", ("n", "n"))
    assert sg.trace(X).op is sg.REGISTRY["trace"] and str(sg.trace(X)) == "tr(X)"
    assert sg.diag(X).op is sg.REGISTRY["diag"] and sg.diagonal(X).op is sg.REGISTRY["diag"]
    assert sg.trace(sg.tensor("T", ("b", "n", "n")), axis1=1, axis2=2).shape == ("b",)


def test_numpy_functions_dispatch_to_nodes():
    a, b = sg.tensor("a", (2, 3, 3)), sg.tensor("b", (3,))
    va, vb = RNG.standard_normal((2, 3, 3)), RNG.standard_normal(3)
    cases = [(np.tensordot(a, b, axes=([2], [0])), np.tensordot(va, vb, axes=([2], [0]))),
             (np.kron(b, b), np.kron(vb, vb)), (np.cross(a, b), np.cross(va, vb)),
             (np.inner(a, b), np.inner(va, vb)), (np.vdot(b, b), np.vdot(vb, vb)),
             (np.trace(a, 0, 1, 2), np.trace(va, 0, 1, 2)), (np.diagonal(a, 1), np.diagonal(va, 1)),
             (np.matmul(va, a), np.matmul(va, va)), (va @ a, va @ va), (np.dot(a, b), va @ vb),
             (np.outer(a, b), np.outer(va, vb)), (np.diag(b, 1), np.diag(vb, 1)),
             (np.einsum("bii->b", a), np.einsum("bii->b", va))]
    for node, expected in cases:
        np.testing.assert_allclose(sg.function([a, b], node)(va, vb), expected, rtol=1e-12)


@pytest.mark.parametrize("build,reference,shapes,message", [
    (sg.matmul, np.matmul, [(2, 3, 4), (2, 5, 6)],
     r"matmul\('e0' \(2, 3, 4\), 'e1' \(2, 5, 6\)\)"),
    (sg.matmul, np.matmul, [(2, 3, 4), (3, 4, 6)], "batch dimensions"),
    (sg.dot, np.dot, [(2, 3, 4), (2, 5, 6)], r"dot\(.*not aligned: 4 \(dim 2\) != 5 \(dim 1\)"),
    (sg.inner, np.inner, [(2, 3, 4), (2, 6, 5)], r"inner\(.*not aligned"),
    (sg.tensordot, np.tensordot, [(2, 3, 4), (2, 5, 6)], r"tensordot\(.*shape-mismatch for sum"),
    (lambda a, b: sg.tensordot(a, b, ([0], [0, 1])),
     lambda a, b: np.tensordot(a, b, ([0], [0, 1])), [(2, 3), (2, 3)], "shape-mismatch"),
    (sg.vdot, np.vdot, [(2, 3), (4,)], r"vdot\(.*different sizes"),
    (lambda a: sg.diagonal(a, 0, 1, 1), lambda a: np.diagonal(a, 0, 1, 1), [(2, 3)],
     "axis1 and axis2 cannot be the same"),
    (sg.trace, np.trace, [(3,)], "at least two dimensions"),
])
def test_products_raise_as_numpy_does(build, reference, shapes, message):
    with pytest.raises(ValueError):
        reference(*[np.ones(s) for s in shapes])
    nodes = [sg.tensor(f"e{i}", s) for i, s in enumerate(shapes)]
    with pytest.raises(ValueError, match=message):
        build(*nodes)


def test_named_dimensions_that_numpy_cannot_size_raise():
    with pytest.raises(sg.ShapeError, match="no symbolic length"):
        sg.diagonal(sg.matrix("M", ("n", "m")))
    with pytest.raises(sg.ShapeError, match="no dimension"):
        sg.kron(sg.vector("a", "n"), sg.vector("b", 3))
    with pytest.raises(sg.ShapeError, match="declare an int size"):
        sg.diag(sg.vector("v", "n"), 1)


# Second derivatives -------------------------------------------------------------------

def _hessian_fd(cost_fn, x0, eps=1e-5):
    """Finite differences of a compiled gradient: the Hessian, columns by entry."""
    flat = x0.ravel()
    cols = []
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += eps
        down[i] -= eps
        cols.append((cost_fn(up.reshape(x0.shape)) - cost_fn(down.reshape(x0.shape))).ravel()
                    / (2 * eps))
    return np.stack(cols, axis=-1).reshape(x0.shape + x0.shape)


@pytest.mark.parametrize("build,shape", [
    (lambda x: sg.sum(sg.einsum("bij,bjk->bik", x, x) ** 2), (2, 2, 2)),
    (lambda x: sg.einsum("ii", x) * sg.einsum("ij,ij", x, x), (3, 3)),
    (lambda x: sg.sum(sg.tanh(sg.tensordot(x, x, ([0], [1])))), (3, 3)),
    (lambda x: sg.sum(sg.cross(x, sg.sin(x)) ** 2), (2, 3)),
    (lambda x: sg.sum(sg.kron(x, x) ** 3), (2, 2)),
    (lambda x: sg.trace(x, 1) ** 2 + sg.sum(sg.diag(sg.diagonal(x, -1), 1) * x[:3, :3]), (3, 4)),
    (lambda x: sg.sum(sg.sin(x @ x[0]) * (x @ x)), (3, 3, 3)),
    (lambda x: sg.sum(sg.einsum("iij->j", x) ** 3), (2, 2, 3)),
], ids=range(8))
def test_hessian_and_hvp_match_finite_differences(build, shape):
    x = sg.tensor("x", shape)
    cost = build(x)
    x0 = RNG.standard_normal(shape)
    grad_fn = sg.function([x], sg.grad(cost, x))
    numeric = _hessian_fd(grad_fn, x0)
    hessian = sg.function([x], sg.hessian(cost, x))(x0)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-6)
    v = sg.tensor("v", shape)
    v0 = RNG.standard_normal(shape)
    hv = sg.function([x, v], sg.hvp(cost, x, v))(x0, v0)
    expected = np.tensordot(numeric, v0, axes=len(shape))
    np.testing.assert_allclose(hv, expected, rtol=1e-5, atol=1e-6)


def test_jacobian_of_einsum_with_named_dims():
    A = sg.tensor("A", ("n", 2))
    y = sg.einsum("ij,ij->i", A, A)
    jac = sg.jacobian(y, A)
    assert jac.shape == ("n", "n", 2)
    a0 = RNG.standard_normal((3, 2))
    expected = np.zeros((3, 3, 2))
    for i in range(3):
        expected[i, i] = 2 * a0[i]
    np.testing.assert_allclose(sg.function([A], jac)(a0), expected)


def test_printing_is_readable():
    A, B = sg.tensor("A", (5, 2, 3)), sg.matrix("B", (3, 4))
    assert str(A @ B) == str(sg.einsum("bij,jk->bik", A, B)) == "A @ B"
    assert str(sg.einsum("bij,kj->bik", A, B.T)) == "A @ B"
    assert str(sg.einsum("bij,bkj->bik", A, A)) == "einsum('bij,bkj->bik', A, A)"
    assert r"\mathtt{bij,bkj \to bik}" in sg.latex(sg.einsum("bij,bkj->bik", A, A))
    assert sg.einsum("bij,kj->bik", A, B.T) is sg.einsum("bij,jk->bik", A, B)  # Bᵀ absorbed
    source = sg.function([A, B], sg.einsum("bij,kj->bik", A, B.T)).source
    assert "np.matmul(A, B)" in source
    T = sg.tensor("T", (2, 3, 4))
    source = sg.function([T], sg.einsum("ijk,ijl->jkl", T, T)).source
    assert "np.einsum('ijk,ijl->jkl', T, T)" in source
    source = sg.function([T, B], sg.einsum("ijk,ijl,mk->lm", T, T, B)).source
    assert "np.einsum('ijk,ijl,mk->lm', T, T, B, optimize=True)" in source


@pytest.mark.parametrize("spec,shapes,lowered", [
    ("bik,bjk->bij", [(5, 2, 3), (5, 4, 3)], "np.matmul(x0, np.swapaxes(x1, -1, -2))"),
    ("bki,bkj->bij", [(5, 3, 2), (5, 3, 4)], "np.matmul(np.swapaxes(x0, -1, -2), x1)"),
    ("bij,bjk->bki", [(5, 2, 3), (5, 3, 4)],
     "np.matmul(np.swapaxes(x1, -1, -2), np.swapaxes(x0, -1, -2))"),
    ("ij,jk->ki", [(2, 3), (3, 4)], "np.dot("),
    ("bik,bij->jk", [(5, 2, 3), (5, 2, 4)], "np.tensordot(x0, x1, axes=([0, 1], [0, 1])).T"),
    ("ijk,jkl->il", [(2, 3, 4), (3, 4, 2)], "np.tensordot(x0, x1, axes=([1, 2], [0, 1]))"),
    ("ab,cd->cadb", [(2, 3), (4, 5)], "np.transpose(np.tensordot(x0, x1, axes=([], [])), "
                                      "(2, 0, 3, 1))"),
    ("jk,bij->bik", [(3, 4), (5, 2, 3)], "np.matmul(x1, x0)"),
])
def test_products_lower_to_np_matmul_or_tensordot(spec, shapes, lowered):
    nodes, values = _inputs(shapes)
    f = sg.function(nodes, sg.einsum(spec, *nodes))
    assert lowered in f.source
    np.testing.assert_allclose(f(*values), np.einsum(spec, *values), rtol=1e-12)


@pytest.mark.parametrize("shapes,axis", [(((3,), (3,)), -1), (((2, 3), (3,)), -1),
                                         (((4, 2), (4, 1)), 0), (((2, 1, 3), (4, 3)), -1)], ids=str)
def test_vecdot_matches_numpy(shapes, axis):
    _check(lambda a, b: sg.vecdot(a, b, axis=axis), lambda a, b: np.vecdot(a, b, axis=axis),
           *shapes)


def test_numpy_linalg_products_use_the_last_two_axes():
    T, u = sg.tensor("T", (2, 3, 3)), sg.tensor("u", (2, 3))
    vt, vu = RNG.standard_normal((2, 3, 3)), RNG.standard_normal((2, 3))
    cases = [(np.linalg.trace(T), np.linalg.trace(vt)), (sg.linalg.trace(T, offset=1),
                                                         np.linalg.trace(vt, offset=1)),
             (np.linalg.diagonal(T, offset=-1), np.linalg.diagonal(vt, offset=-1)),
             (sg.linalg.diagonal(T), np.linalg.diagonal(vt)),
             (np.linalg.cross(u, T[0, :2]), np.linalg.cross(vu, vt[0, :2])),
             (np.linalg.vecdot(T, u[0]), np.linalg.vecdot(vt, vu[0])),
             (np.linalg.outer(u[0], u[1]), np.linalg.outer(vu[0], vu[1])),
             (np.linalg.tensordot(T, u, axes=([0, 1], [0, 1])),
              np.linalg.tensordot(vt, vu, axes=([0, 1], [0, 1]))),
             (np.linalg.matmul(T, T), vt @ vt), (sg.linalg.matmul(u, T), vu @ vt)]
    for node, expected in cases:
        np.testing.assert_allclose(sg.function([T, u], node)(vt, vu), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="1-D"):
        np.linalg.outer(T, u)
    with pytest.raises(ValueError, match="3-vectors"):
        sg.linalg.cross(sg.vector("p", 2), sg.vector("q", 2))
    with pytest.raises(ValueError, match=r"cross\('u' \(2, 3\).*batch dimensions \(2,\) and \(3,\)"):
        sg.cross(u, T[0])


def test_cli_parser_knows_the_products():
    from symgrad.cli.parse import parse_expression
    shapes = {"A": (2, 3), "B": (2, 3), "a": (3,), "b": (3,)}
    A, B, a, b = (sg.tensor(n, s) for n, s in shapes.items())
    assert parse_expression("tensordot(A, B)", shapes) is sg.tensordot(A, B)
    assert parse_expression("cross(a, b) + inner(A, b)[0]", shapes) is \
        sg.cross(a, b) + sg.inner(A, b)[0]
    assert parse_expression("kron(a, b)", shapes) is sg.kron(a, b)
    assert parse_expression("vdot(A, B) + vecdot(a, b)", shapes) is sg.vdot(A, B) + sg.vecdot(a, b)
    assert parse_expression("diagonal(A)", shapes) is sg.diagonal(A)


def _numeric_jacobian(f, x0, eps=1e-6):
    out = np.asarray(f(x0))
    result = np.zeros(out.shape + x0.shape)
    for entry in np.ndindex(x0.shape):
        step = np.zeros_like(x0)
        step[entry] = eps
        result[(...,) + entry] = (f(x0 + step) - f(x0 - step)) / (2 * eps)
    return result


@pytest.mark.parametrize("build,shape", [
    (lambda x: sg.sin(sg.diagonal(x, 0, 0, 2)), ("n", 2, "n")),
    (lambda x: sg.sin(sg.ops.products.diagonal_embed(x, shape=("n", 2, "n"), axis1=0, axis2=2)),
     (2, "n")),
    (lambda x: sg.einsum("iji,ki->jk", x, sg.cos(x[:, 0, :])), ("n", 2, "n")),
], ids=range(3))
def test_whole_jacobians_with_named_dims(build, shape):
    x = sg.tensor("x", shape)
    y = build(x)
    jac = sg.jacobian(y, x)
    assert jac.shape == y.shape + x.shape
    x0 = RNG.standard_normal(tuple(3 if d == "n" else d for d in shape))
    expected = _numeric_jacobian(sg.function([x], y), x0)
    np.testing.assert_allclose(sg.function([x], jac)(x0), expected, rtol=1e-6, atol=1e-8)


def test_tensordot_takes_numpy_integers():
    a, b = sg.tensor("a", (2, 3)), sg.tensor("b", (3, 2))
    assert sg.tensordot(a, b, np.int64(1)) is a @ b
    assert sg.tensordot(a, b, (np.int64(1), np.int64(0))) is a @ b
