# Reference values for trialkit.analysis._dunnett.dunnett_quantile (tests/analysis/test_dunnett_quantile.py).
# Run from this directory:  R CMD BATCH --no-save --no-restore dunnett_quantile.R
# The Dunnett many-to-one critical value c: P(max_i |T_i| >= c) = alpha (sided = 2) or
# P(max_i T_i >= c) = alpha (sided = 1), T multivariate t on df with the correlation
# sqrt(n_i n_j / ((n0 + n_i)(n0 + n_j))) of differences against a shared control.
# k <= 3, integer df: uniroot (tol 1e-13) on mvtnorm's TVPACK (abseps 1e-14); the two-sided box is
# the inclusion-exclusion sum of its 2^k orthant probabilities, the one-sided one a single orthant.
# k >= 4: uniroot (tol 1e-10) on GenzBretz(maxpts = 2e6, abseps = 1e-8, releps = 0), the seed reset
# before each evaluation so the function of c is deterministic.
# qmvt's default answer (randomised GenzBretz, about 1e-3) is printed and stored beside each.
suppressPackageStartupMessages(library(mvtnorm))
options(digits = 17)

dunnett_corr <- function(n0, n) {
  s <- sqrt(n / (n + n0))
  r <- outer(s, s)
  diag(r) <- 1
  r
}
tvpack_inside <- function(c, corr, df, sided) {
  k <- nrow(corr)
  if (sided == 1) {
    return(as.numeric(pmvt(upper = rep(c, k), corr = corr, df = as.integer(df),
                           algorithm = TVPACK(abseps = 1e-14))))
  }
  total <- 0
  for (mask in 0:(2^k - 1)) {
    neg <- bitwAnd(mask, 2^(0:(k - 1))) > 0
    u <- ifelse(neg, -c, c)
    v <- pmvt(upper = u, corr = corr, df = as.integer(df), algorithm = TVPACK(abseps = 1e-14))
    total <- total + (-1)^sum(neg) * as.numeric(v)
  }
  total
}
genz_inside <- function(c, corr, df, sided) {
  k <- nrow(corr)
  set.seed(1)
  lower <- if (sided == 1) rep(-Inf, k) else rep(-c, k)
  as.numeric(pmvt(lower = lower, upper = rep(c, k), corr = corr, df = df,
                  algorithm = GenzBretz(maxpts = 2e6, abseps = 1e-8, releps = 0)))
}

rows <- list()
add <- function(n, df, alpha, sided) {
  n0 <- n[1]; arms <- n[-1]; k <- length(arms)
  r <- dunnett_corr(n0, arms)
  low <- qt(1 - alpha / sided, df); high <- qt(1 - alpha / (sided * k), df)
  if (k <= 3) {
    c <- uniroot(function(c) 1 - tvpack_inside(c, r, df, sided) - alpha, c(low, high), tol = 1e-13)$root
    algorithm <- "TVPACK(abseps = 1e-14)"
  } else {
    c <- uniroot(function(c) 1 - genz_inside(c, r, df, sided) - alpha, c(low, high), tol = 1e-10)$root
    algorithm <- "GenzBretz(maxpts = 2e6, abseps = 1e-8)"
  }
  set.seed(1)
  q <- qmvt(1 - alpha, tail = if (sided == 1) "lower.tail" else "both.tails", df = df, corr = r)$quantile
  cat(sprintf("n = %s df = %g alpha = %g sided = %d: c = %.13f (qmvt: %.6f)\n",
              paste(n, collapse = ","), df, alpha, sided, c, q))
  rows[[length(rows) + 1]] <<- data.frame(n_per_arm = paste(n, collapse = " "), df = df, alpha = alpha,
    sided = sided, value = c, qmvt = q, algorithm = algorithm)
}
for (sided in 2:1) {
  add(c(20, 20, 20), 57, 0.05, sided)
  add(c(30, 30, 30, 30), 116, 0.05, sided)
  add(c(10, 25, 40), 70, 0.05, sided)
  add(c(40, 20, 20, 20), 95, 0.01, sided)
  add(c(5, 5, 5), 3, 0.05, sided)
  add(c(12, 120, 120), 249, 0.1, sided)
  add(c(30, 30, 30, 30, 30), 144, 0.05, sided)
  add(c(25, 25, 25, 25, 25, 25), 144, 0.05, sided)
}
out <- do.call(rbind, rows)
write.csv(out, "expected.csv", row.names = FALSE)
print(out)
sessionInfo()
