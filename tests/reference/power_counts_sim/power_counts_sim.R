# Reference values for the "negative_binomial" and "poisson" power-simulation kernels
# (tests/power/simulation/test_kernel_counts.py).
# Run from this directory:  R CMD BATCH --no-save --no-restore power_counts_sim.R
# Writes datasets.csv (a few small count trials: arm 0 = control, the baseline count or NA when the
# dataset has no baseline visit, y the primary-visit count or NA when it is missing, the exposure of
# the baseline and of the primary visit, and the baseline term: log, log1p or raw of the baseline
# rate) and expected.csv: the Wald test of each arm coefficient of
#   MASS::glm.nb(y ~ arm [+ term] + offset(log(exposure)))      (model-based SE, theta by ML)
#   glm(y ~ arm [+ term] + offset(log(exposure)), poisson)       (HC0 sandwich SE, sandwich::sandwich)
# fitted to the complete cases with R's default controls (the kernels repeat those iterations).
options(digits = 17)
library(MASS)
library(sandwich)
set.seed(20142)
make <- function(name, sizes, rates, theta, baseline = c("none", "log", "log1p", "raw"),
                 exposure = c(1, 1), base_rate = 3, missing = 0) {
  baseline <- match.arg(baseline)
  arm <- rep(seq_along(sizes) - 1, sizes)
  n <- length(arm)
  frailty <- rgamma(n, shape = theta, rate = theta)
  x <- if (baseline == "none") rep(NA_real_, n) else rpois(n, base_rate * exposure[1] * frailty)
  if (baseline == "log") x <- pmax(x, 1)  # a zero baseline count has no log
  y <- rnbinom(n, size = theta, mu = rates[arm + 1] * exposure[2] * sqrt(frailty))
  if (missing > 0) y[sample(n, missing)] <- NA
  rate <- x / exposure[1]
  term <- switch(baseline, none = rep(NA_real_, n), log = log(rate), log1p = log1p(rate), raw = rate)
  data.frame(dataset = name, arm = arm, baseline = x, y = y, exposure_baseline = exposure[1],
             exposure = exposure[2], mode = baseline, term = term)
}
sets <- list(
  make("two_arm_no_baseline", c(25, 25), c(2.0, 1.2), 1.5, "none", exposure = c(1, 2)),
  make("two_arm_log", c(20, 26), c(1.5, 0.9), 2.0, "log", exposure = c(2, 3), missing = 5),
  make("three_arm_log1p", c(18, 20, 22), c(2.5, 1.5, 3.0), 1.2, "log1p", exposure = c(1, 1.5)),
  make("two_arm_raw", c(30, 30), c(4.0, 2.5), 3.0, "raw", exposure = c(4, 4), base_rate = 1.5),
  make("three_arm_log_unequal", c(15, 30, 12), c(1.0, 0.6, 1.6), 0.8, "log", exposure = c(1, 1), missing = 6)
)
rows <- list()
for (d in sets) {
  cc <- d[!is.na(d$y), ]
  cc$arm <- factor(cc$arm)
  has_baseline <- d$mode[1] != "none"
  form <- if (has_baseline) y ~ arm + term + offset(log(exposure)) else y ~ arm + offset(log(exposure))
  nb <- glm.nb(form, data = cc)
  stopifnot(nb$converged, is.null(nb$th.warn))
  po <- glm(form, family = poisson, data = cc)
  stopifnot(po$converged)
  co_nb <- summary(nb)$coefficients
  v_po <- sandwich(po)
  for (j in seq_len(nlevels(cc$arm) - 1)) {
    term <- paste0("arm", j)
    se_po <- sqrt(v_po[term, term])
    rows[[length(rows) + 1]] <- data.frame(dataset = d$dataset[1], family = "negative_binomial", term = term,
      estimate = co_nb[term, 1], se = co_nb[term, 2], z = co_nb[term, 3], p = co_nb[term, 4], theta = nb$theta)
    rows[[length(rows) + 1]] <- data.frame(dataset = d$dataset[1], family = "poisson", term = term,
      estimate = coef(po)[[term]], se = se_po, z = coef(po)[[term]] / se_po,
      p = 2 * pnorm(-abs(coef(po)[[term]] / se_po)), theta = Inf)
  }
}
write.csv(do.call(rbind, sets), "datasets.csv", row.names = FALSE, na = "")
out <- do.call(rbind, rows)
write.csv(out, "expected.csv", row.names = FALSE)
print(out)
sessionInfo()
