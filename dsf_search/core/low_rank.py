"""How the mixer builds the low-rank part u_t w_t^T of transition 'dplr' (axis `low_rank`).

A_t = diag(a_t) - u_t w_t^T with the mixer's gates a_t in (0, 1]^n. Each option is one way of
making u_t, w_t [B, T, H, n] from the mixer's tensors (frontier.py applies it) and states why
the spectral radius of A_t stays <= 1:

* symmetric: u = beta sqrt(a) o p_hat, w = sqrt(a) o |k_hat| o sign(p_hat), beta in [0, 1]
  ('nonnegative') or [0, 2] ('signed'), p its own projection. A_t is diagonally similar to
  sqrt(D)(I - beta r r^T) sqrt(D), |r| <= 1: real eigenvalues in [-max a, max a].
* rwkv7: RWKV-7's in-context rule (Peng et al. 2025): u = alpha_t o kappa_hat_t,
  w = kappa_hat_t, kappa_t = k_t o xi (xi learned per channel), alpha_t = sigmoid(.) in
  (0, 1)^n (the decoupled in-context learning rate), and the write key replaced by
  k~_t = k_t o (1 + (alpha_t - 1) o c) (c learned per channel). With s = sqrt(alpha),
  diag(s)^-1 A_t diag(s) = diag(a_t) - r r^T, r = sqrt(alpha) o kappa_hat, |r|^2 <= 1: a
  symmetric matrix, so the eigenvalues are real and lie in [min a - 1, max a] within [-1, 1].
* comba: Comba's scalar-plus-low-rank rule (Hu et al. 2025) with its erase direction
  p_t = sigmoid(d) k_hat_t (d learned per head, as flash-linear-attention's Comba layer):
  u = beta k_hat, w = a o p, i.e. A_t = (I - beta_t k_hat p_t^T) diag(a_t) (decay, then the
  closed-loop correction), beta in [0, 1] or [0, 2] ('signed'). The factor's eigenvalues are 1
  and 1 - beta sigmoid(d) in (-1, 1], and A_t is similar to
  sqrt(D)(I - beta sigmoid(d) k_hat k_hat^T) sqrt(D): real eigenvalues in [-max a, max a].
* gated_deltanet2: Gated DeltaNet-2's erase (Hatamizadeh, Choi, Kautz 2026): a channel-wise
  erase gate e_t = sigmoid(.) in (0, 1)^n on the key axis, A_t = (I - k_hat (e_t o k_hat)^T)
  diag(a_t), i.e. u = k_hat, w = a o e o k_hat; e in (0, 2)^n when 'signed'. With E = diag(e),
  E^(1/2) A_t E^(-1/2) = (I - r r^T) diag(a_t), r = sqrt(e) o k_hat, |r|^2 <= max e; that is
  similar to sqrt(D)(I - r r^T) sqrt(D): real eigenvalues in [-max a, max a] (in [0, max a]
  for e <= 1). Its write gate is the injection 'sigmoid_value'.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsf_search.core.registry import Option, Registry


@dataclass(frozen=True)
class LowRank(Option):
    """own_direction: the erase direction p is its own projection of the input (else it is
    derived from the key); per_channel_rate: the rate (beta / alpha) has one value per state
    channel (shape [H, n]) instead of one per head; rewrites_key: the write key is replaced
    (RWKV-7's k~); channel_params / head_params: learned vectors [H, n] / [H] the option adds;
    needs_signed: its eigenvalues reach below zero whatever the eigenvalues axis says."""

    own_direction: bool = True
    per_channel_rate: bool = False
    rewrites_key: bool = False
    channel_params: int = 0
    head_params: int = 0
    needs_signed: bool = False


LOW_RANKS: Registry[LowRank] = Registry("low_rank")
LOW_RANKS.register(LowRank(
    "symmetric", "u = beta sqrt(a) o p_hat, w = sqrt(a) o |k_hat| o sign(p_hat) (eigenvalues in [-max a, max a])"))
LOW_RANKS.register(LowRank(
    "rwkv7", "RWKV-7: u = alpha o kappa_hat, w = kappa_hat, kappa = k o xi, write key k o (1 + (alpha - 1) o c); "
    "eigenvalues in [min a - 1, max a]",
    own_direction=False, per_channel_rate=True, rewrites_key=True, channel_params=2, needs_signed=True))
LOW_RANKS.register(LowRank(
    "comba", "Comba: u = beta k_hat, w = a o sigmoid(d) k_hat (erase scaled per head); eigenvalues in [-max a, max a]",
    own_direction=False, head_params=1))
LOW_RANKS.register(LowRank(
    "gated_deltanet2", "Gated DeltaNet-2: u = k_hat, w = a o e o k_hat, e = sigmoid(.) per key channel (the erase gate); "
    "eigenvalues in [-max a, max a]",
    own_direction=False, per_channel_rate=True))
