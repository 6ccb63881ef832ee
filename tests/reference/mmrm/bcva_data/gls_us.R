# bcva_data, unstructured covariance (10 visits, 55 parameters), REML, with nlme::gls.
# Run from this folder:  Rscript gls_us.R > gls_us.Rout 2>&1
# Writes us_reml.json (fixed effects, covariance, log-likelihoods, time of the gls fit).
source("../mmrm_reference_lib.R")

raw <- read.csv("bcva_data.csv", stringsAsFactors = FALSE)
data <- raw[!is.na(raw$BCVA_CHG), ]
data$USUBJID <- as.character(data$USUBJID)
data$ARMCD <- factor(data$ARMCD, levels = c("CTL", "TRT"))
data$RACE <- factor(data$RACE, levels = c("Asian", "Black", "White"))
visits <- sprintf("VIS%02d", 1:10)
data$AVISIT <- factor(data$AVISIT, levels = visits)
data$VISIT_INDEX <- as.integer(data$AVISIT)
data <- data[order(as.integer(data$USUBJID), data$VISIT_INDEX), ]
formula <- BCVA_CHG ~ BCVA_BL + RACE + ARMCD * AVISIT
control <- glsControl(tolerance = 1e-8, msTol = 1e-8, maxIter = 1000, msMaxIter = 1000)

elapsed <- system.time(
  fit <- gls(formula, data = data, method = "REML", control = control,
             correlation = corSymm(form = ~ VISIT_INDEX | USUBJID), weights = varIdent(form = ~ 1 | AVISIT))
)[["elapsed"]]
cat("gls elapsed seconds:", elapsed, "\n")
print(summary(fit)$tTable, digits = 10)
cat("logLik (R):", format(as.numeric(logLik(fit)), digits = 15), "\n")

d <- make_design(data, formula, "USUBJID", "VISIT_INDEX")
complete <- names(which(lengths(d$rows) == 10))[1]
Sigma <- unname(as.matrix(getVarCov(fit, individual = complete)))
ll_sas <- loglik_sigma(Sigma, d, reml = TRUE)
cat("-2 REML logLik (SAS convention):", format(-2 * ll_sas, digits = 15), "\n")
cat("R logLik - SAS-convention logLik:", format(as.numeric(logLik(fit)) - ll_sas, digits = 15),
    " 0.5 log|X'X|:", format(0.5 * as.numeric(determinant(crossprod(d$X))$modulus), digits = 15), "\n")

terms <- structured_terms(formula, data)
stopifnot(identical(vapply(terms, `[[`, "", "r_name"), names(coef(fit))))
se <- sqrt(diag(vcov(fit)))
fixed <- lapply(seq_along(terms), function(j) c(terms[[j]], list(estimate = unname(coef(fit)[j]),
                                                                  std_error = unname(se[j]))))
write_json15(list(
  dataset = "bcva_data", covariance = "us", reml = TRUE,
  reference_levels = list(ARMCD = "CTL", RACE = "Asian", AVISIT = "VIS01"),
  model = "BCVA_CHG ~ BCVA_BL + RACE + ARMCD * AVISIT; unstructured residual covariance over AVISIT within USUBJID; REML",
  software = paste("R", getRversion(), "nlme", packageVersion("nlme"),
                   "gls(correlation = corSymm(~ visit index | USUBJID), weights = varIdent(~ 1 | AVISIT))"),
  gls_control = "glsControl(tolerance = 1e-8, msTol = 1e-8, maxIter = 1000, msMaxIter = 1000)",
  gls_elapsed_seconds = elapsed,
  n_subjects = length(d$rows), n_observations = d$N,
  log_likelihood_r = as.numeric(logLik(fit)),
  log_likelihood_sas_convention = ll_sas,
  minus2_reml_loglik_sas_convention = -2 * ll_sas,
  visits = visits, covariance_matrix = matrix_rows(Sigma),
  fixed_effects = fixed
), "us_reml.json")
sessionInfo()
