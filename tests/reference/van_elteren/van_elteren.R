# Reference values for trialkit.analysis.van_elteren_arrays / van_elteren
# (tests/analysis/test_van_elteren.py), written from the definition of van Elteren's test.
# Run from this directory:  R CMD BATCH --no-save --no-restore van_elteren.R
suppressPackageStartupMessages({
  library(HSAUR3)
  library(coin)
})
options(digits = 17)

# standardised statistic of x - d against y, stratum by stratum (mid-ranks, tie-corrected variance,
# weights 1 / (n_s + 1), no continuity correction)
vz <- function(d, x, y, sx, sy) {
  num <- 0
  v <- 0
  for (s in union(sx, sy)) {
    a <- x[sx == s] - d
    b <- y[sy == s]
    m <- length(a); l <- length(b); n <- m + l
    r <- rank(c(a, b))
    t <- table(c(a, b))
    ties <- sum(t^3 - t)
    num <- num + (sum(r[seq_len(m)]) - m * (n + 1) / 2) / (n + 1)
    v <- v + m * l / 12 * (n + 1 - ties / (n * (n - 1))) / (n + 1)^2
  }
  if (v == 0) 0 else num / sqrt(v)
}

# where a predicate, true for small d and false for large d, changes: the step function z(d) is
# constant between the within-stratum differences, so it is enough to look at the differences and
# the midpoints between them; the change happens at a difference
boundary <- function(holds, x, y, sx, sy) {
  cand <- sort(unique(unlist(lapply(union(sx, sy), function(s) as.vector(outer(x[sx == s], y[sy == s], "-"))))))
  pts <- c(cand[1] - 1, as.vector(rbind(cand, c((cand[-1] + cand[-length(cand)]) / 2, cand[length(cand)] + 1))))
  is_cand <- c(FALSE, rep(c(TRUE, FALSE), length(cand)))
  ok <- vapply(pts, holds, logical(1))
  last <- max(which(ok))
  if (last == length(pts)) return(NA)  # holds everywhere: no boundary
  if (is_cand[last]) pts[last] else pts[last + 1]
}

van_elteren <- function(x, y, sx, sy, alpha = 0.05) {
  f <- function(d) vz(d, x, y, sx, sy)
  zq <- qnorm(1 - alpha / 2)
  z <- f(0)
  lower <- boundary(function(d) f(d) > 0, x, y, sx, sy)
  upper <- boundary(function(d) f(d) >= 0, x, y, sx, sy)
  lo_ok <- f(min(x) - max(y) - 1) > zq
  hi_ok <- f(max(x) - min(y) + 1) < -zq
  data.frame(statistic = z, p_value = 2 * pnorm(-abs(z)), estimate = (lower + upper) / 2,
             ci_low = if (lo_ok) boundary(function(d) f(d) > zq, x, y, sx, sy) else NA,
             ci_high = if (hi_ok) boundary(function(d) f(d) >= -zq, x, y, sx, sy) else NA,
             conf_level = 1 - alpha)
}

rows <- list()

# 1. HSAUR3::BtheB (Beat the Blues trial): BDI at 2 months, BtheB vs TAU, strata = antidepressant
#    drug (No/Yes) x length of current episode (<6m/>6m); subjects with a 2-month BDI
data("BtheB", package = "HSAUR3")
b <- subset(BtheB, !is.na(bdi.2m))
b$stratum <- paste(b$drug, b$length, sep = ":")
write.csv(data.frame(arm = as.character(b$treatment), y = b$bdi.2m, stratum = b$stratum), "data_btheb.csv",
          row.names = FALSE)
x <- b$bdi.2m[b$treatment == "BtheB"]; y <- b$bdi.2m[b$treatment == "TAU"]
sx <- b$stratum[b$treatment == "BtheB"]; sy <- b$stratum[b$treatment == "TAU"]
rows$btheb <- cbind(case = "btheb", van_elteren(x, y, sx, sy))
rows$btheb_90 <- cbind(case = "btheb_90", van_elteren(x, y, sx, sy, alpha = 0.1))

# 2. synthetic trial with ties: 3 strata of unequal size, values on a 0.5 grid, true shift -1
set.seed(20261201)
sizes <- c(north = 14, south = 9, east = 22)
syn <- do.call(rbind, lapply(names(sizes), function(s) {
  n <- sizes[[s]]
  arm <- rep(c("active", "placebo"), length.out = n)
  centre <- c(north = 10, south = 13, east = 8)[[s]]
  data.frame(arm = arm, y = round(2 * (centre + rnorm(n, 0, 2) - (arm == "active"))) / 2, stratum = s)
}))
write.csv(syn, "data_synthetic.csv", row.names = FALSE)
x <- syn$y[syn$arm == "active"]; y <- syn$y[syn$arm == "placebo"]
sx <- syn$stratum[syn$arm == "active"]; sy <- syn$stratum[syn$arm == "placebo"]
rows$synthetic <- cbind(case = "synthetic", van_elteren(x, y, sx, sy))

# 3. tiny strata: the interval cannot reach the 95% level (both ends do not exist)
x <- c(3.1, 4.2, 5.0); y <- c(2.0, 2.2, 6.0)
sx <- c("a", "a", "b"); sy <- c("a", "b", "b")
rows$tiny <- cbind(case = "tiny", van_elteren(x, y, sx, sy))

out <- do.call(rbind, rows)
write.csv(out, "expected.csv", row.names = FALSE)
print(out)

# Checks of the implementation above against independent code:
# (a) one stratum: the statistic is wilcox.test's without continuity correction
one <- van_elteren(c(1.1, 2.3, 3.8, 4.2, 2.3), c(0.2, 0.9, 1.5, 2.3), rep(1, 5), rep(1, 4))
w <- wilcox.test(c(1.1, 2.3, 3.8, 4.2, 2.3), c(0.2, 0.9, 1.5, 2.3), correct = FALSE, exact = FALSE)
stopifnot(abs(one$p_value - w$p.value) < 1e-12)
# (b) coin: van Elteren's statistic is the block-wise permutation test of the within-stratum
#     ranks scaled by 1 / (n_s + 1) (coin's own wilcox_test ranks over all strata, so it is not it)
coin_z <- function(x, y, sx, sy) {
  d <- data.frame(v = c(x, y), arm = factor(rep(c("x", "y"), c(length(x), length(y)))),
                  block = factor(c(sx, sy)))
  d$score <- ave(d$v, d$block, FUN = function(v) rank(v) / (length(v) + 1))
  statistic(independence_test(score ~ arm | block, data = d))
}
coin_check <- c(
  btheb = coin_z(b$bdi.2m[b$treatment == "BtheB"], b$bdi.2m[b$treatment == "TAU"],
                 b$stratum[b$treatment == "BtheB"], b$stratum[b$treatment == "TAU"]),
  synthetic = coin_z(syn$y[syn$arm == "active"], syn$y[syn$arm == "placebo"],
                     syn$stratum[syn$arm == "active"], syn$stratum[syn$arm == "placebo"]),
  tiny = coin_z(x, y, sx, sy))
print(cbind(coin = coin_check, formula = out$statistic[match(names(coin_check), out$case)]))
stopifnot(all(abs(coin_check - out$statistic[match(names(coin_check), out$case)]) < 1e-10))
print(sessionInfo())
