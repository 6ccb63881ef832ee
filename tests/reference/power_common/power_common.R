# Shared by power_t/power_t.R and power_ancova/power_ancova.R (each sources this file):
# the packages, the printing precision and the Dunnett critical value by TVPACK.
# Writes expected.csv: one row per case; `quantity` says what `value` is (power, n = the control
# arm's size, or effect); `r_function` names the R computation.
suppressPackageStartupMessages({
  library(pwr)
  library(mvtnorm)
})
options(digits = 17)

# two-sided many-to-one box probability P(|T_i| < c for all i) by inclusion-exclusion over the
# 2^k orthant probabilities TVPACK computes (k <= 3, integer df; abseps 1e-14)
tvpack_box <- function(c, corr, df) {
  k <- nrow(corr)
  total <- 0
  for (mask in 0:(2^k - 1)) {
    neg <- bitwAnd(mask, 2^(0:(k - 1))) > 0
    u <- ifelse(neg, -c, c)
    v <- pmvt(upper = u, corr = corr, df = as.integer(df), algorithm = TVPACK(abseps = 1e-14))
    total <- total + (-1)^sum(neg) * as.numeric(v)
  }
  total
}
dunnett_corr <- function(n0, n) {
  s <- sqrt(n / (n + n0))
  r <- outer(s, s)
  diag(r) <- 1
  r
}
# Dunnett critical value: uniroot on the TVPACK box to 1e-13 (qmvt's default GenzBretz answer
# printed beside it for comparison: it is stochastic to about 1e-3)
dunnett_c <- function(n0, n, df, alpha) {
  r <- dunnett_corr(n0, n)
  c <- uniroot(function(c) 1 - tvpack_box(c, r, df) - alpha,
               c(qt(1 - alpha / 2, df), qt(1 - alpha / (2 * length(n)), df)), tol = 1e-13)$root
  set.seed(1)
  q <- qmvt(1 - alpha, tail = "both.tails", df = df, corr = r)$quantile
  cat(sprintf("dunnett n0=%d n=%s df=%d alpha=%g: c = %.12f (qmvt GenzBretz: %.6f)\n",
              n0, paste(n, collapse = ","), df, alpha, c, q))
  c
}
# exact power of each arm-vs-control comparison (both tails when two-sided); the smallest
t_power <- function(n0, n, effect, sd, alpha, sided, crit, extra = 0, rho = 0) {
  df <- n0 + sum(n) - length(n) - 1 - extra
  q <- if (crit == "dunnett") dunnett_c(n0, n, df, alpha) else
    qt(1 - alpha / (sided * if (crit == "bonferroni") length(n) else 1), df)
  ncp <- effect / (sd * sqrt(1 - rho^2) * sqrt(1 / n0 + 1 / n))
  p <- if (sided == 1) pt(q, df, abs(ncp), lower.tail = FALSE) else
    pt(q, df, ncp, lower.tail = FALSE) + pt(-q, df, ncp)
  min(p)
}
smallest_n <- function(target, allocation, arms, ...) {
  n0 <- 2
  repeat {
    n <- rep(max(2, ceiling(allocation * n0 - 1e-9)), arms)
    if (t_power(n0, n, ...) >= target) return(c(n0, n[1]))
    n0 <- n0 + 1
  }
}

rows <- list()
