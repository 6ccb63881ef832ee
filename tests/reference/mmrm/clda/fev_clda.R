# Constrained longitudinal data analysis (cLDA) of fev_data with VIS1 as the baseline visit:
# FEV1 ~ AVISIT + TRT x (VIS2, VIS3, VIS4) + RACE + SEX (no arm difference at VIS1),
# unstructured covariance (corSymm + varIdent), REML. Reference for tk.mmrm(baseline_visit="VIS1").
# Run from this folder: Rscript fev_clda.R ../../../../trialkit/datasets/longitudinal/fev_data.csv > fev_clda.Rout
suppressMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d <- d[!is.na(d$FEV1), ]
d$AVISIT <- factor(d$AVISIT)
d$RACE <- factor(d$RACE)
d$SEX <- relevel(factor(d$SEX), "Female")
d$visit_index <- as.integer(d$AVISIT)
trt <- as.numeric(d$ARMCD == "TRT")
d$TRT_VIS2 <- trt * (d$AVISIT == "VIS2")
d$TRT_VIS3 <- trt * (d$AVISIT == "VIS3")
d$TRT_VIS4 <- trt * (d$AVISIT == "VIS4")
fit <- gls(FEV1 ~ AVISIT + TRT_VIS2 + TRT_VIS3 + TRT_VIS4 + RACE + SEX, data = d, method = "REML",
           correlation = corSymm(form = ~ visit_index | USUBJID), weights = varIdent(form = ~ 1 | AVISIT),
           control = glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 1000, msMaxIter = 1000))
est <- coef(fit)
se <- sqrt(diag(vcov(fit)))
print(summary(fit))
cat("\n-2 REML log L:", format(-2 * as.numeric(logLik(fit)), digits = 15), "\n")
out <- sprintf('{"minus2_reml_loglik": %s, "n_subjects": %d, "coefficients": [%s]}',
               format(-2 * as.numeric(logLik(fit)), digits = 15), length(unique(d$USUBJID)),
               paste(sprintf('{"r_name": "%s", "estimate": %s, "std_error": %s}', names(est),
                             format(est, digits = 15), format(se, digits = 15)), collapse = ", "))
writeLines(out, "fev_clda.json")
