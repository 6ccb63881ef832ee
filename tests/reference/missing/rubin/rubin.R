# Rubin's rules with the Barnard-Rubin degrees of freedom, as computed by mice::pool.
# Inputs (per-imputation estimates and standard errors) are simulated below with a fixed seed; each
# case is pooled by mice::pool through a minimal fit class (so the numbers come from mice's own code
# path: pool -> pool.fitlist -> barnard.rubin) and cross-checked against mice::pool.scalar.
# Run: R CMD BATCH --no-save --no-restore rubin.R   (writes rubin.Rout, inputs.csv, expected.csv)
source("../exact_csv.R")
suppressPackageStartupMessages(library(mice))
print_versions(c("mice", "generics", "broom"))

# A fit that holds one parameter's estimate and standard error: enough for mice::pool.
scalar_fit <- function(estimate, std_error, df_residual) {
  structure(list(estimate = estimate, std_error = std_error, df_residual = df_residual), class = "scalar_fit")
}
registerS3method("tidy", "scalar_fit", function(x, ...) {
  data.frame(term = "theta", estimate = x$estimate, std.error = x$std_error)
}, envir = asNamespace("generics"))
registerS3method("glance", "scalar_fit", function(x, ...) {
  data.frame(df.residual = x$df_residual, nobs = NA_real_)
}, envir = asNamespace("generics"))

# case: name, m, dfcom, alpha, centre of the estimates, sd between imputations, range of the within variance
cases <- read.csv(text = "
case,m,dfcom,alpha,centre,between_sd,u_low,u_high
m2_dfcom40,2,40,0.05,1.3,0.4,0.09,0.12
m5_dfcom_inf,5,Inf,0.05,-0.8,0.3,0.05,0.07
m5_dfcom999999,5,999999,0.05,-0.8,0.3,0.05,0.07
m5_dfcom10_alpha10,5,10,0.10,2.1,0.9,0.6,0.9
m20_dfcom40,20,40,0.05,0.35,0.15,0.04,0.06
m20_large_fraction,20,25,0.05,-3.0,2.5,0.5,0.7
m100_dfcom_inf,100,Inf,0.05,5.2,1.1,2.0,2.6
m100_dfcom120,100,120,0.05,-0.02,0.05,0.010,0.013
m5_tiny_between_dfcom40,5,40,0.05,1.5,3e-4,0.035,0.045
m5_tiny_between_dfcom_inf,5,Inf,0.05,1.5,3e-4,0.035,0.045
m20_tiny_between_dfcom200,20,200,0.05,-0.7,1e-4,0.020,0.022
m5_zero_between_dfcom40,5,40,0.05,0.6,0,0.2,0.3
")

set.seed(20240610)
inputs <- list()
for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  # the 999999 case reuses the Inf case's draws: only the complete-data df differs
  if (cs$case == "m5_dfcom999999") {
    d <- inputs[["m5_dfcom_inf"]]
    d$case <- cs$case
  } else if (cs$case == "m5_tiny_between_dfcom_inf") {
    d <- inputs[["m5_tiny_between_dfcom40"]]
    d$case <- cs$case
  } else {
    estimate <- cs$centre + cs$between_sd * rnorm(cs$m)
    std_error <- sqrt(runif(cs$m, cs$u_low, cs$u_high))
    d <- data.frame(case = cs$case, imputation = seq_len(cs$m), estimate = estimate, std_error = std_error)
  }
  inputs[[cs$case]] <- d
}

# The real example: the nhanes data shipped with mice, lm(chl ~ age + bmi) on 10 imputations.
imp <- mice(nhanes, m = 10, seed = 7, printFlag = FALSE)
fit <- with(imp, lm(chl ~ age + bmi))
pooled_real <- pool(fit)
per_imp <- lapply(getfit(fit), function(f) summary(f)$coefficients)
dfcom_real <- df.residual(getfit(fit, 1))
for (term in c("(Intercept)", "age", "bmi")) {
  name <- paste0("nhanes_lm_", gsub("[()]", "", tolower(term)))
  cases <- rbind(cases, data.frame(case = name, m = 10, dfcom = dfcom_real, alpha = 0.05, centre = NA,
                                   between_sd = NA, u_low = NA, u_high = NA))
  inputs[[name]] <- data.frame(case = name, imputation = 1:10,
                               estimate = sapply(per_imp, function(s) s[term, "Estimate"]),
                               std_error = sapply(per_imp, function(s) s[term, "Std. Error"]))
}

expected <- list()
for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  d <- inputs[[cs$case]]
  fits <- Map(scalar_fit, d$estimate, d$std_error, cs$dfcom)
  p <- pool(fits, dfcom = cs$dfcom)$pooled
  s <- pool.scalar(d$estimate, d$std_error^2, n = cs$dfcom, k = 0)
  se <- sqrt(p$t)
  statistic <- p$estimate / se
  quantile <- qt(1 - cs$alpha / 2, p$df)
  expected[[i]] <- data.frame(
    case = cs$case, m = p$m, dfcom = cs$dfcom, alpha = cs$alpha,
    estimate = p$estimate, std_error = se, within = p$ubar, between = p$b, total = p$t, df = p$df,
    riv = p$riv, lambda = p$lambda, fmi = p$fmi, statistic = statistic,
    p_value = 2 * pt(abs(statistic), p$df, lower.tail = FALSE),
    ci_low = p$estimate - quantile * se, ci_high = p$estimate + quantile * se,
    lambda_used_in_df = max(p$lambda, 1e-4)
  )
  # pool.scalar (other code, same formulas) must agree with pool to rounding
  rel <- function(a, b) abs(a - b) / max(abs(b), .Machine$double.xmin)
  gap <- max(rel(s$qbar, p$estimate), rel(s$ubar, p$ubar), rel(s$b, p$b), rel(s$t, p$t),
             rel(s$df, p$df), rel(s$r, p$riv), rel(s$fmi, p$fmi))
  cat(sprintf("%-28s m=%3d dfcom=%-7s lambda=%.3g df=%.6g   pool vs pool.scalar: max rel diff %.2g\n",
              cs$case, p$m, format(cs$dfcom), p$lambda, p$df, gap))
  # summary.mipo's own p-value and interval (pt/qt on the same df) agree with the columns written
  sm <- summary(pool(fits, dfcom = cs$dfcom), conf.int = TRUE, conf.level = 1 - cs$alpha)
  limits <- grep("%$", names(sm), value = TRUE)  # "2.5 %", "97.5 %" for alpha = 0.05
  stopifnot(isTRUE(all.equal(sm$p.value, expected[[i]]$p_value, tolerance = 1e-14)),
            isTRUE(all.equal(sm[[limits[1]]], expected[[i]]$ci_low, tolerance = 1e-14)),
            isTRUE(all.equal(sm[[limits[2]]], expected[[i]]$ci_high, tolerance = 1e-14)))
}
expected <- do.call(rbind, expected)

# The real example through the scalar fits equals pool() on the mira object itself
real <- expected[grepl("^nhanes", expected$case), ]
print(pooled_real)
stopifnot(max(abs(real$estimate - pooled_real$pooled$estimate)) == 0,
          isTRUE(all.equal(real$total, pooled_real$pooled$t, tolerance = 1e-15)),
          isTRUE(all.equal(real$df, pooled_real$pooled$df, tolerance = 1e-15)),
          isTRUE(all.equal(real$fmi, pooled_real$pooled$fmi, tolerance = 1e-15)))
cat("nhanes: scalar fits and pool(with(mice(...), lm(...))) agree; dfcom =", dfcom_real, "\n")

write_exact_csv(do.call(rbind, inputs), "inputs.csv")
write_exact_csv(expected, "expected.csv")
print(expected[, c("case", "m", "dfcom", "estimate", "std_error", "df", "lambda", "fmi", "p_value")], digits = 6)
sessionInfo()
