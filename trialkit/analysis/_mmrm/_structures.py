"""Residual covariance structures over the visits, in SAS ``TYPE=`` terms.

Each structure maps two parameter vectors onto a ``k x k`` covariance matrix Σ:

- ``phi``, the *natural* parameters SAS reports (variances, covariances, correlations), in which
  the Kenward–Roger adjustment is computed — for ``us``, ``cs`` and ``toep`` Σ is linear in them,
  so their second derivatives vanish as in SAS ``DDFM=KR``;
- ``theta``, unconstrained reals that the optimiser moves: every ``theta`` gives a positive
  definite Σ (log variances, a log-Cholesky factor, correlations through ``tanh`` or partial
  autocorrelations).

Derivatives of Σ and of ``phi`` are taken by complex step (Squire & Trapp 1998), exact to
rounding: every map here is written with operations that are analytic in their argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
CArray = npt.NDArray[np.complex128]

#: SAS TYPE= names and what they are (aliases such as `unstructured` or `un`: trialkit._spec.MMRM_COVARIANCE_ALIASES).
COVARIANCE_TYPES: dict[str, str] = {
    "us": "unstructured",
    "cs": "compound symmetry",
    "csh": "heterogeneous compound symmetry",
    "ar1": "first-order autoregressive",
    "arh1": "heterogeneous first-order autoregressive",
    "toep": "Toeplitz",
    "toeph": "heterogeneous Toeplitz",
}

_STEP = 1e-30  # complex step: no subtractive cancellation, so the step can be tiny


@dataclass(frozen=True)
class Structure:
    """A covariance structure for ``k`` visits.

    Attributes
    ----------
    name : str
        SAS ``TYPE=`` name.
    k : int
        Number of visits.
    names : tuple of str
        Names of the natural parameters (SAS's, e.g. ``UN(2,1)``, ``AR(1)``).
    linear : bool
        Whether Σ is linear in the natural parameters (no second-derivative term in KR).
    """

    name: str
    k: int
    names: tuple[str, ...]
    linear: bool
    to_phi: Callable[[CArray], CArray]
    to_sigma: Callable[[CArray], CArray]
    from_sigma: Callable[[Array], Array]

    @property
    def size(self) -> int:
        """Number of parameters."""
        return len(self.names)

    def sigma(self, theta: Array) -> Array:
        """Σ at unconstrained ``theta``."""
        return self.to_sigma(self.to_phi(theta.astype(np.complex128))).real

    def sigma_jacobian(self, theta: Array) -> Array:
        """dΣ/dθ as an array ``(size, k, k)``."""
        return _complex_jacobian(lambda t: self.to_sigma(self.to_phi(t)), theta)

    def sigma_hessian(self, theta: Array) -> Array:
        """d²Σ/dθ_i dθ_j ``(size, size, k, k)``."""
        return _complex_hessian(lambda t: self.to_sigma(self.to_phi(t)), theta)

    def phi(self, theta: Array) -> Array:
        """Natural parameters at ``theta``."""
        return self.to_phi(theta.astype(np.complex128)).real

    def phi_jacobian(self, theta: Array) -> Array:
        """dφ/dθ as an array ``(size, size)``: row i is the derivative along θ_i."""
        return _complex_jacobian(self.to_phi, theta)

    def sigma_of_phi(self, phi: Array) -> Array:
        """Σ at natural parameters ``phi``."""
        return self.to_sigma(phi.astype(np.complex128)).real

    def dsigma_dphi(self, phi: Array) -> Array:
        """dΣ/dφ as an array ``(size, k, k)``."""
        return _complex_jacobian(self.to_sigma, phi)

    def d2sigma_dphi2(self, phi: Array) -> Array:
        """Second derivatives d²Σ/dφ_i dφ_j ``(size, size, k, k)``; zeros for a linear structure."""
        if self.linear:
            return np.zeros((self.size, self.size, self.k, self.k))
        return _complex_hessian(self.to_sigma, phi)

    def start(self, sigma: Array) -> Array:
        """Unconstrained parameters of the structure closest to a moment estimate ``sigma``."""
        return self.from_sigma(sigma)


def _complex_jacobian(f: Callable[[CArray], CArray], x: Array) -> Array:
    """Jacobian of an analytic map by complex step, all directions in one batched call: row i is ``df/dx_i``."""
    x = np.asarray(x, dtype=np.float64)
    z = x[None, :] + 1j * _STEP * np.eye(len(x))
    return np.asarray(f(z).imag / _STEP, dtype=np.float64)


def _complex_hessian(f: Callable[[CArray], CArray], x: Array) -> Array:
    """Second derivatives of an analytic map: central differences of its complex-step first derivatives.

    Error O(h²), about 1e-10 relative with h = 1e-5 (relative to |x_i| above 1); every point
    x ± h_i e_i and every complex-step direction e_j go through one batched call.
    """
    x = np.asarray(x, dtype=np.float64)
    m = len(x)
    eye = np.eye(m)
    h = 1e-5 * np.maximum(1.0, np.abs(x))
    points = x[None, None, :] + np.array([1.0, -1.0])[:, None, None] * (h[:, None] * eye)[None]  # (2, i, m)
    z = points[:, :, None, :] + 1j * _STEP * eye[None, None]  # (2, i, j, m)
    first = f(z).imag / _STEP  # (2, i, j, ...): df/dx_j at x ± h_i e_i
    out = (first[0] - first[1]) / (2 * h.reshape((m,) + (1,) * (first.ndim - 2)))
    return np.asarray(0.5 * (out + np.swapaxes(out, 0, 1)), dtype=np.float64)


# Every map below works on the last axis of its argument, with any leading batch axes.


def _outer_sd(variances: CArray) -> CArray:
    sd = np.sqrt(variances)
    return sd[..., :, None] * sd[..., None, :]


def _lags(k: int) -> npt.NDArray[np.intp]:
    idx = np.arange(k)
    return np.asarray(np.abs(idx[:, None] - idx[None, :]), dtype=np.intp)


def _corr_bounds(k: int) -> float:
    """Lower bound of an exchangeable correlation over ``k`` visits (positive definite above it)."""
    return -1.0 / (k - 1) if k > 1 else -1.0


def _exchangeable(t: CArray, k: int) -> CArray:
    lo = _corr_bounds(k)
    return np.asarray(lo + (1 - lo) / (1 + np.exp(-t)), dtype=np.complex128)


def _exchangeable_inverse(rho: float, k: int) -> float:
    lo = _corr_bounds(k)
    u = min(max((rho - lo) / (1 - lo), 1e-6), 1 - 1e-6)
    return float(np.log(u / (1 - u)))


def _autocorrelations(partial: CArray) -> CArray:
    """Autocorrelations at lags 1..q of a stationary series with partial autocorrelations ``partial``.

    Durbin–Levinson recursion: every sequence of partial autocorrelations in (-1, 1) gives a
    positive definite Toeplitz correlation matrix, and back.
    """
    q = partial.shape[-1]
    one = np.ones(partial.shape[:-1] + (1,), dtype=np.complex128)
    rho = one[..., :0]
    coef = one[..., :0]
    for n in range(q):
        a = partial[..., n : n + 1]
        coef = np.concatenate([coef - a * coef[..., ::-1], a], axis=-1)
        past = np.concatenate([one, rho], axis=-1)[..., ::-1]  # rho_n, ..., rho_1, rho_0 = 1
        rho = np.concatenate([rho, np.sum(coef * past, axis=-1, keepdims=True)], axis=-1)
    return rho


def _partial_autocorrelations(rho: Array) -> Array:
    """Inverse of :func:`_autocorrelations` (Levinson), clipped inside (-1, 1)."""
    q = len(rho)
    out = np.zeros(q)
    coef = np.zeros(0)
    full = np.concatenate([[1.0], rho])
    for n in range(q):
        num = full[n + 1] - np.sum(coef * full[1 : n + 1][::-1])
        den = 1 - np.sum(coef * full[1 : n + 1])
        a = float(np.clip(num / den if den > 0 else 0.0, -0.95, 0.95))
        out[n] = a
        coef = np.concatenate([coef - a * coef[::-1], [a]])
    return out


def _us(k: int) -> Structure:
    rows, cols = np.tril_indices(k)
    order = np.lexsort((cols, rows))  # SAS order: UN(1,1), UN(2,1), UN(2,2), UN(3,1), ...
    rows, cols = rows[order], cols[order]
    diag = rows == cols

    def to_phi(theta: CArray) -> CArray:
        chol = np.zeros(theta.shape[:-1] + (k, k), dtype=np.complex128)
        chol[..., rows, cols] = np.where(diag, np.exp(theta), theta)
        sigma = chol @ np.swapaxes(chol, -1, -2)
        return sigma[..., rows, cols]

    def to_sigma(phi: CArray) -> CArray:
        sigma = np.zeros(phi.shape[:-1] + (k, k), dtype=np.complex128)
        sigma[..., rows, cols] = phi
        sigma[..., cols, rows] = phi
        return sigma

    def from_sigma(sigma: Array) -> Array:
        chol = np.linalg.cholesky(sigma)
        return np.where(diag, np.log(chol[rows, cols].clip(1e-12)), chol[rows, cols])

    names = tuple(f"UN({r + 1},{c + 1})" for r, c in zip(rows, cols, strict=True))
    return Structure("us", k, names, True, to_phi, to_sigma, from_sigma)


def _cs(k: int) -> Structure:
    def to_phi(theta: CArray) -> CArray:
        total, rho = np.exp(theta[..., 0]), _exchangeable(theta[..., 1], k)
        return np.stack([total * rho, total * (1 - rho)], axis=-1)

    def to_sigma(phi: CArray) -> CArray:
        return phi[..., 0, None, None] * np.ones((k, k)) + phi[..., 1, None, None] * np.eye(k)

    def from_sigma(sigma: Array) -> Array:
        var = float(np.mean(np.diag(sigma)))
        cov = float(np.mean(sigma[~np.eye(k, dtype=bool)])) if k > 1 else 0.0
        return np.array([np.log(var), _exchangeable_inverse(cov / var, k)])

    return Structure("cs", k, ("CS", "Residual"), True, to_phi, to_sigma, from_sigma)


def _csh(k: int) -> Structure:
    def to_phi(theta: CArray) -> CArray:
        return np.concatenate([np.exp(theta[..., :k]), _exchangeable(theta[..., k:], k)], axis=-1)

    def to_sigma(phi: CArray) -> CArray:
        rho = phi[..., k, None, None]
        return _outer_sd(phi[..., :k]) * (rho * np.ones((k, k)) + (1 - rho) * np.eye(k))

    def from_sigma(sigma: Array) -> Array:
        var = np.diag(sigma)
        corr = sigma / np.sqrt(np.outer(var, var))
        rho = float(np.mean(corr[~np.eye(k, dtype=bool)])) if k > 1 else 0.0
        return np.concatenate([np.log(var), [_exchangeable_inverse(rho, k)]])

    names = tuple(f"Var({i + 1})" for i in range(k)) + ("CSH",)
    return Structure("csh", k, names, False, to_phi, to_sigma, from_sigma)


def _mean_lag_correlation(sigma: Array, lag: int) -> float:
    var = np.diag(sigma)
    corr = sigma / np.sqrt(np.outer(var, var))
    return float(np.mean(np.diagonal(corr, offset=lag)))


def _ar1(k: int, heterogeneous: bool) -> Structure:
    lags = _lags(k)
    nvar = k if heterogeneous else 1

    def to_phi(theta: CArray) -> CArray:
        return np.concatenate([np.exp(theta[..., :nvar]), np.tanh(theta[..., nvar:])], axis=-1)

    def to_sigma(phi: CArray) -> CArray:
        var = phi[..., :nvar] if heterogeneous else np.repeat(phi[..., :1], k, axis=-1)
        return _outer_sd(var) * phi[..., nvar, None, None] ** lags

    def from_sigma(sigma: Array) -> Array:
        var = np.diag(sigma) if heterogeneous else np.array([np.mean(np.diag(sigma))])
        rho = _mean_lag_correlation(sigma, 1) if k > 1 else 0.0
        return np.concatenate([np.log(var), [np.arctanh(np.clip(rho, -0.95, 0.95))]])

    names = (tuple(f"Var({i + 1})" for i in range(k)) if heterogeneous else ("Variance",)) + ("AR(1)",)
    return Structure("arh1" if heterogeneous else "ar1", k, names, False, to_phi, to_sigma, from_sigma)


def _toep(k: int, heterogeneous: bool) -> Structure:
    lags = _lags(k)
    nvar = k if heterogeneous else 1

    def to_phi(theta: CArray) -> CArray:
        var = np.exp(theta[..., :nvar])
        rho = _autocorrelations(np.tanh(theta[..., nvar:]))
        if heterogeneous:
            return np.concatenate([var, rho], axis=-1)
        return np.concatenate([var, var[..., :1] * rho], axis=-1)  # SAS TOEP: lag covariances, linear in Σ

    def to_sigma(phi: CArray) -> CArray:
        if heterogeneous:
            rho = np.concatenate([np.ones(phi.shape[:-1] + (1,)), phi[..., k:]], axis=-1)
            return np.asarray(_outer_sd(phi[..., :k]) * rho[..., lags], dtype=np.complex128)
        return np.asarray(phi[..., lags], dtype=np.complex128)

    def from_sigma(sigma: Array) -> Array:
        var = np.diag(sigma) if heterogeneous else np.array([np.mean(np.diag(sigma))])
        rho = np.array([_mean_lag_correlation(sigma, lag) for lag in range(1, k)])
        return np.concatenate([np.log(var), np.arctanh(_partial_autocorrelations(rho))])

    if heterogeneous:
        names = tuple(f"Var({i + 1})" for i in range(k)) + tuple(f"TOEPH({lag})" for lag in range(1, k))
    else:
        names = ("TOEP(0)",) + tuple(f"TOEP({lag})" for lag in range(1, k))
    return Structure("toeph" if heterogeneous else "toep", k, names, not heterogeneous, to_phi, to_sigma, from_sigma)


def structure(name: str, k: int) -> Structure:
    """Return the covariance structure ``name`` (SAS TYPE= name) over ``k`` visits."""
    builders: dict[str, Callable[[int], Structure]] = {
        "us": _us,
        "cs": _cs,
        "csh": _csh,
        "ar1": lambda n: _ar1(n, False),
        "arh1": lambda n: _ar1(n, True),
        "toep": lambda n: _toep(n, False),
        "toeph": lambda n: _toep(n, True),
    }
    return builders[name](k)
