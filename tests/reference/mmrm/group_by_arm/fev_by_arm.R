# Separate unstructured covariances per arm (SAS GROUP=ARMCD) on fev_data, checked through a
# factorisation: with the mean model FEV1 ~ ARMCD * AVISIT (no shared covariate) every fixed effect
# belongs to one arm, so the grouped model's REML log-likelihood is the sum of the two arms' own
# REML fits (FEV1 ~ AVISIT within an arm), and each arm's covariance is that arm's fit's.
# Run from this folder: Rscript fev_by_arm.R ../../../../trialkit/datasets/longitudinal/fev_data.csv > fev_by_arm.Rout
suppressMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
d <- d[!is.na(d$FEV1), ]
d$AVISIT <- factor(d$AVISIT)
d$visit_index <- as.integer(d$AVISIT)
fits <- list()
for (arm in c("PBO", "TRT")) {
  part <- d[d$ARMCD == arm, ]
  fits[[arm]] <- gls(FEV1 ~ AVISIT, data = part, method = "REML",
                     correlation = corSymm(form = ~ visit_index | USUBJID), weights = varIdent(form = ~ 1 | AVISIT),
                     control = glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 1000, msMaxIter = 1000))
}
ll <- sum(sapply(fits, function(f) as.numeric(logLik(f))))
cat("-2 REML log L (sum over arms):", format(-2 * ll, digits = 15), "\n")
cov_json <- function(f) {
  v <- getVarCov(f, individual = names(which.max(table(getGroups(f)))))
  paste0("[", paste(apply(v, 1, function(r) paste0("[", paste(format(r, digits = 15), collapse = ", "), "]")), collapse = ", "), "]")
}
for (arm in names(fits)) print(getVarCov(fits[[arm]], individual = names(which.max(table(getGroups(fits[[arm]]))))))
writeLines(sprintf('{"minus2_reml_loglik": %s, "covariance": {"PBO": %s, "TRT": %s}}',
                   format(-2 * ll, digits = 15), cov_json(fits[["PBO"]]), cov_json(fits[["TRT"]])), "fev_by_arm.json")
