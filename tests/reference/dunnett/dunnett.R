# Reference values for trialkit.analysis.dunnett_p / dunnett (tests/analysis/test_dunnett.py).
# Run from this directory:  R CMD BATCH --no-save --no-restore dunnett.R
# Writes data_*.csv (the data the ANCOVA cases fit), cases.csv (statistics, df, reference p) and
# correlation.csv (the correlation matrix of each case, long format).
suppressPackageStartupMessages({
  library(mvtnorm)
  library(multcomp)
  library(emmeans)
})
options(digits = 17)

# high-precision two-sided many-to-one p: P(max |T_i| >= |t_j|). TVPACK computes only orthant-type
# probabilities P(T <= u), so for k <= 3 the box P(|T_i| < c for all i) is their inclusion-exclusion
# sum over the 2^k corners: sum over S of (-1)^|S| P(T_i <= -c for i in S, T_i <= c otherwise).
tvpack_box <- function(c, corr, df) {
  k <- nrow(corr)
  total <- 0
  for (mask in 0:(2^k - 1)) {
    neg <- bitwAnd(mask, 2^(0:(k - 1))) > 0
    u <- ifelse(neg, -c, c)
    v <- if (is.infinite(df)) {
      pmvnorm(upper = u, corr = corr, algorithm = TVPACK(abseps = 1e-14))
    } else {
      pmvt(upper = u, corr = corr, df = as.integer(df), algorithm = TVPACK(abseps = 1e-14))
    }
    total <- total + (-1)^sum(neg) * as.numeric(v)
  }
  total
}
precise <- function(t, corr, df) {
  k <- length(t)
  sapply(abs(t), function(c) {
    if (k <= 3 && (is.infinite(df) || df == round(df))) {
      return(c(p = 1 - tvpack_box(c, corr, df), error = 2^k * 1e-14))
    }
    set.seed(1)
    v <- if (is.infinite(df)) {
      pmvnorm(-rep(c, k), rep(c, k), corr = corr, algorithm = GenzBretz(maxpts = 1e7, abseps = 1e-9, releps = 0))
    } else {
      pmvt(-rep(c, k), rep(c, k), corr = corr, df = df, algorithm = GenzBretz(maxpts = 1e7, abseps = 1e-9, releps = 0))
    }
    c(p = 1 - as.numeric(v), error = attr(v, "error"))
  })
}

cases <- list()
correlations <- list()
add <- function(name, t, corr, df, algorithm, p_multcomp = NA, p_emmeans = NA) {
  pr <- precise(t, corr, df)
  k <- length(t)
  cases[[name]] <<- data.frame(case = name, comparison = seq_len(k), statistic = t, df = df,
                               algorithm = algorithm, p_reference = pr["p", ], p_reference_error = pr["error", ],
                               p_multcomp = p_multcomp, p_emmeans = p_emmeans)
  correlations[[name]] <<- data.frame(case = name, row = rep(seq_len(k), k), col = rep(seq_len(k), each = k),
                                      value = as.vector(corr))
}

# A fitted lm, its Dunnett contrasts: multcomp (default GenzBretz), emmeans mvt (default), precise
from_fit <- function(name, fit, factor_name) {
  g <- glht(fit, linfct = do.call(mcp, setNames(list("Dunnett"), factor_name)))
  s <- summary(g)  # single-step, multcomp's default algorithm
  t <- as.numeric(s$test$tstat)
  vc <- vcov(g)
  corr <- cov2cor(vc)
  set.seed(2)
  em <- summary(contrast(emmeans(fit, factor_name), "trt.vs.ctrl", adjust = "mvt"))
  k <- length(t)
  algorithm <- if (k <= 3) "TVPACK (inclusion-exclusion)" else "GenzBretz(maxpts=1e7,abseps=1e-9)"
  add(name, t, unname(corr), fit$df.residual, algorithm, as.numeric(s$test$pvalues), em$p.value)
  print(s)
  print(em)
}

# 1. multcomp::cholesterol: 5 arms, Dunnett against the first ("1time"), one-way ANOVA
data("cholesterol", package = "multcomp")
write.csv(data.frame(arm = as.character(cholesterol$trt), y = cholesterol$response), "data_cholesterol.csv",
          row.names = FALSE)
from_fit("cholesterol", lm(response ~ trt, data = cholesterol), "trt")

# 2. multcomp::litter: 4 doses against dose 0, ANCOVA on gestation time and litter size
data("litter", package = "multcomp")
write.csv(data.frame(arm = as.character(litter$dose), y = litter$weight, gesttime = litter$gesttime,
                     number = litter$number), "data_litter.csv", row.names = FALSE)
from_fit("litter", lm(weight ~ dose + gesttime + number, data = litter), "dose")

# 3. synthetic trial: 4 arms (unequal sizes), baseline covariate, known effects 0, -1, -2, -0.5
set.seed(20261201)
sizes <- c(placebo = 30, low = 24, mid = 27, high = 21)
arm <- factor(rep(names(sizes), sizes), levels = names(sizes))
baseline <- round(rnorm(sum(sizes), 20, 4), 1)
effect <- c(placebo = 0, low = -1, mid = -2, high = -0.5)[as.character(arm)]
y <- round(5 + 0.7 * baseline + effect + rnorm(sum(sizes), 0, 2.5), 1)
synthetic <- data.frame(arm = as.character(arm), y = y, baseline = baseline)
write.csv(synthetic, "data_synthetic.csv", row.names = FALSE)
synthetic$arm <- factor(synthetic$arm, levels = names(sizes))
from_fit("synthetic_ancova", lm(y ~ arm + baseline, data = synthetic), "arm")

# 4. the same, three arms only (k = 2) and a small sample (df = 7: the scale integral matters)
three <- droplevels(subset(synthetic, arm %in% c("placebo", "low", "mid")))
from_fit("synthetic_three_arms", lm(y ~ arm + baseline, data = three), "arm")
small <- do.call(rbind, lapply(split(synthetic, synthetic$arm), head, 3))
from_fit("synthetic_small", lm(y ~ arm + baseline, data = small), "arm")

# 5. statistics and correlations given directly: strong, negative, near-zero correlation; df 1, 3, inf
add("k2_rho0.9_df3", c(2.1, -3.4), matrix(c(1, 0.9, 0.9, 1), 2), 3, "TVPACK (inclusion-exclusion)")
add("k2_rho-0.6_df1", c(4.0, 1.5), matrix(c(1, -0.6, -0.6, 1), 2), 1, "TVPACK (inclusion-exclusion)")
add("k3_mixed_df12", c(2.2, -1.1, 2.9),
    matrix(c(1, 0.45, 0.3, 0.45, 1, 0.6, 0.3, 0.6, 1), 3), 12, "TVPACK (inclusion-exclusion)")
add("k3_normal", c(2.4, 0.3, -1.9),
    matrix(c(1, 0.5, 0.5, 0.5, 1, 0.5, 0.5, 0.5, 1), 3), Inf, "TVPACK (inclusion-exclusion)")
add("k2_small_p_df40", c(5.5, 4.1), matrix(c(1, 0.5, 0.5, 1), 2), 40, "TVPACK (inclusion-exclusion)")
add("k4_normal", c(2.5, 2.0, -0.7, 1.3),
    matrix(c(1, .5, .4, .45, .5, 1, .5, .5, .4, .5, 1, .35, .45, .5, .35, 1), 4), Inf,
    "GenzBretz(maxpts=1e7,abseps=1e-9)")
set.seed(7)
a <- matrix(rnorm(36), 6)
corr6 <- cov2cor(crossprod(a) + diag(6))
add("k6_df25", c(2.8, -2.2, 1.0, 0.4, 2.5, -3.1), corr6, 25, "GenzBretz(maxpts=1e7,abseps=1e-9)")

out <- do.call(rbind, cases)
write.csv(out, "cases.csv", row.names = FALSE)
write.csv(do.call(rbind, correlations), "correlation.csv", row.names = FALSE)
print(out)
print(sessionInfo())
