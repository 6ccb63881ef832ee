# Reference values for the "logistic" power-simulation kernel (tests/power/simulation/test_logistic_simulation.py).
# Run from this directory:  R CMD BATCH --no-save --no-restore power_logistic.R
# Writes datasets.csv (a few small binary trials: arm 0 = control, baseline 0/1 or NA when the
# dataset has no baseline visit, y 0/1 or NA when the primary visit is missing) and expected.csv:
# the Wald test of each arm coefficient of glm(y ~ arm [+ baseline], family = binomial) fitted to
# the complete cases, iterated far beyond the default convergence (see below) so that estimates
# and SEs are those of the maximum-likelihood fit to ~1e-13.
options(digits = 17)
set.seed(20141)
make <- function(name, sizes, has_baseline, b, p_baseline = 0.35, missing = 0) {
  arm <- rep(seq_along(sizes) - 1, sizes)
  x <- if (has_baseline) rbinom(length(arm), 1, p_baseline) else rep(NA_real_, length(arm))
  eta <- b[1] + ifelse(arm > 0, b[2:(length(sizes))][pmax(arm, 1)], 0) + if (has_baseline) b[length(b)] * x else 0
  y <- rbinom(length(arm), 1, plogis(eta))
  if (missing > 0) y[sample(length(y), missing)] <- NA
  data.frame(dataset = name, arm = arm, baseline = x, y = y)
}
sets <- list(
  make("two_arm_baseline", c(30, 30), TRUE, c(-0.5, 0.7, 1.2)),
  make("three_arm_baseline", c(20, 25, 22), TRUE, c(-0.3, 0.5, 1.0, 0.9)),
  make("three_arm_no_baseline", c(15, 18, 20), FALSE, c(0.2, -0.6, 0.8)),
  make("missing_primary", c(28, 26), TRUE, c(0.1, 0.6, 1.4), missing = 7),
  make("rare_events", c(60, 60), TRUE, c(-2.8, 1.0, 1.1), p_baseline = 0.2)
)
rows <- list()
for (d in sets) {
  cc <- d[!is.na(d$y), ]
  cc$arm <- factor(cc$arm)
  has_baseline <- !all(is.na(d$baseline))
  # quasi-complete separation would make the MLE infinite: these datasets must not have it
  stopifnot(all(tapply(cc$y, cc$arm, function(v) 0 < sum(v) && sum(v) < length(v))))
  if (has_baseline) stopifnot(all(tapply(cc$y, cc$baseline, function(v) 0 < sum(v) && sum(v) < length(v))))
  form <- if (has_baseline) y ~ arm + baseline else y ~ arm
  control <- glm.control(epsilon = 1e-14, maxit = 100)
  fit <- glm(form, family = binomial, data = cc, control = control)
  stopifnot(fit$converged)
  # glm stops on the relative change of the deviance, which is quadratic in that of the
  # coefficients, and its covariance uses the weights of the step before the last: restart from
  # the estimates until they move by less than 1e-13, so both are those of the exact MLE
  repeat {
    again <- glm(form, family = binomial, data = cc, control = control, start = coef(fit))
    moved <- max(abs(coef(again) - coef(fit)))
    fit <- again
    if (moved < 1e-13) break
  }
  co <- summary(fit)$coefficients
  for (j in seq_len(nlevels(cc$arm) - 1)) {
    term <- paste0("arm", j)
    rows[[length(rows) + 1]] <- data.frame(dataset = d$dataset[1], term = term, estimate = co[term, 1],
      se = co[term, 2], z = co[term, 3], p = co[term, 4])
  }
}
write.csv(do.call(rbind, sets), "datasets.csv", row.names = FALSE, na = "")
out <- do.call(rbind, rows)
write.csv(out, "expected.csv", row.names = FALSE)
print(out)
sessionInfo()
