# Reference values for the "negative_binomial" power family (trialkit/power/_counts.py,
# docs/power-binary-counts.md): Zhu & Lakkis (2014), Statistics in Medicine 33:376-387, written
# out in R from the paper's formulas.
#
# Run from the repository root:
#   R CMD BATCH --no-save --no-restore tests/reference/power_negative_binomial/make_reference.R tests/reference/power_negative_binomial/make_reference.Rout
#
# Writes, beside this script:
#   expected.csv    one row per case: the power at given (n_control, n_arm)
#   expected_n.csv  one row per case: Zhu & Lakkis's sample-size formula for the control arm
#                   (continuous, r_n) and the smallest integer n per arm (equal groups) whose power
#                   reaches the target, by an integer search on the power function
#   versions.txt    the R version
# Numbers are written with sprintf("%.17g") (round-trip exact doubles); NA is an empty field.
#
# Model: each subject followed for t time units has a negative binomial count with mean mu t and
# variance mu t + k (mu t)^2. Control rate mu0, arm rate mu1 = RR mu0, R = n1 / n0. The Wald test
# of log RR = 0 has, per control subject,
#   V1 = (1/mu0 + 1/(R mu1)) / t + (1 + R) k / R                (variance under the alternative)
#   V0 (method 1) = (1 + R) / (t R mu0) + (1 + R) k / R          (both arms at the control rate)
#   V0 (method 2) = V1                                           (the true rates)
#   V0 (method 3) = (1 + R)^2 / (t R (mu0 + R mu1)) + (1 + R) k / R   (the null MLE of the common rate)
#   power = pnorm((sqrt(n0) |log RR| - qnorm(1 - alpha / sided) sqrt(V0)) / sqrt(V1))
#   n0    = (qnorm(1 - alpha / sided) sqrt(V0) + qnorm(power) sqrt(V1))^2 / log(RR)^2

here <- "tests/reference/power_negative_binomial"
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))

variances <- function(mu0, rr, k, t, R, method) {
  mu1 <- rr * mu0
  extra <- (1 + R) * k / R
  v1 <- (1 / mu0 + 1 / (R * mu1)) / t + extra
  v0 <- switch(method,
               (1 + R) / (t * R * mu0) + extra,
               v1,
               (1 + R)^2 / (t * R * (mu0 + R * mu1)) + extra)
  c(v0 = v0, v1 = v1)
}
nb_power <- function(n0, n1, mu0, rr, k, t, alpha, sided, method) {
  v <- variances(mu0, rr, k, t, n1 / n0, method)
  pnorm((sqrt(n0) * abs(log(rr)) - qnorm(1 - alpha / sided) * sqrt(v[["v0"]])) / sqrt(v[["v1"]]))
}
nb_n0 <- function(mu0, rr, k, t, R, alpha, sided, target, method) {
  v <- variances(mu0, rr, k, t, R, method)
  (qnorm(1 - alpha / sided) * sqrt(v[["v0"]]) + qnorm(target) * sqrt(v[["v1"]]))^2 / log(rr)^2
}

# mu0, RR, k, t, n0, n1 (Zhu & Lakkis's Table I settings first: mu0 0.8 / 1.4, t 0.75)
cases <- list(c(0.8, 0.85, 0.4, 0.75, 1500, 1500), c(1.4, 1.15, 1.5, 0.75, 1200, 1200),
              c(2.0, 0.5, 1.0, 1.0, 40, 40), c(10, 1.5, 0.2, 1.0, 30, 45), c(5, 2, 0.5, 1, 12, 12),
              c(0.5, 0.7, 0, 2, 150, 300), c(3, 0.6, 2.5, 0.5, 90, 60), c(0.2, 1.8, 0.8, 3, 77, 154))
rows <- list()
for (e in cases) for (method in 1:3) for (alpha in c(0.05, 0.025)) for (sided in c(2, 1)) {
  p <- nb_power(e[5], e[6], e[1], e[2], e[3], e[4], alpha, sided, method)
  cat(sprintf("mu0 %g RR %g k %g t %g n (%d, %d) method %d alpha %g sided %d: power %.17g\n",
              e[1], e[2], e[3], e[4], e[5], e[6], method, alpha, sided, p))
  rows[[length(rows) + 1]] <- data.frame(
    case = sprintf("nb_%g_%g_k%g_t%g_n%d_%d_m%d_a%g_s%d", e[1], e[2], e[3], e[4], e[5], e[6], method,
                   alpha, sided),
    rate_control = fmt(e[1]), rate_ratio = fmt(e[2]), dispersion = fmt(e[3]), exposure = fmt(e[4]),
    n_control = e[5], n_arm = e[6], variance_method = method, alpha = fmt(alpha), sided = sided,
    power = fmt(p))
}
write.csv(do.call(rbind, rows), file.path(here, "expected.csv"), row.names = FALSE, quote = FALSE)

# mu0, RR, k, t, target, alpha, sided
targets <- list(c(0.8, 0.85, 0.4, 0.75, 0.8, 0.05, 2), c(1.4, 1.15, 1.5, 0.75, 0.8, 0.05, 2),
                c(2.0, 0.5, 1.0, 1.0, 0.8, 0.05, 2), c(5, 2, 0.5, 1, 0.9, 0.05, 2),
                c(0.5, 0.7, 0, 2, 0.8, 0.025, 1), c(3, 0.6, 2.5, 0.5, 0.85, 0.05, 1))
nrows <- list()
for (e in targets) for (method in 1:3) {
  r_n <- nb_n0(e[1], e[2], e[3], e[4], 1, e[6], e[7], e[5], method)
  n <- 2
  while (nb_power(n, n, e[1], e[2], e[3], e[4], e[6], e[7], method) < e[5]) n <- n + 1
  stopifnot(n == max(2, ceiling(r_n)))
  cat(sprintf("mu0 %g RR %g k %g t %g target %g alpha %g sided %d method %d: n0 %.17g -> %d per arm\n",
              e[1], e[2], e[3], e[4], e[5], e[6], e[7], method, r_n, n))
  nrows[[length(nrows) + 1]] <- data.frame(
    case = sprintf("nbn_%g_%g_k%g_t%g_pw%g_a%g_s%d_m%d", e[1], e[2], e[3], e[4], e[5], e[6], e[7], method),
    rate_control = fmt(e[1]), rate_ratio = fmt(e[2]), dispersion = fmt(e[3]), exposure = fmt(e[4]),
    variance_method = method, alpha = fmt(e[6]), sided = e[7], target = fmt(e[5]), n_per_arm = n,
    r_n = fmt(r_n), power_at_n = fmt(nb_power(n, n, e[1], e[2], e[3], e[4], e[6], e[7], method)))
}
write.csv(do.call(rbind, nrows), file.path(here, "expected_n.csv"), row.names = FALSE, quote = FALSE)
writeLines(R.version.string, file.path(here, "versions.txt"))
