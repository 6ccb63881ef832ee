# Time nlme::gls fits of an unstructured MMRM (corSymm + varIdent, REML), the R baseline of
# benchmarks/bench_mmrm.py. Usage: Rscript mmrm_gls.R DATA.csv MODEL REPEATS
# MODEL: "fev" (FEV1 ~ ARMCD*AVISIT + RACE + SEX) or "bcva" (BCVA_CHG ~ BCVA_BL + RACE + ARMCD*AVISIT).
# Prints one JSON line: the wall time of each fit (seconds) and the fit's -2 REML log-likelihood.
suppressMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
model <- args[2]
repeats <- as.integer(args[3])
if (model == "fev") {
  d <- d[!is.na(d$FEV1), ]
  form <- FEV1 ~ ARMCD * AVISIT + RACE + SEX
} else {
  d <- d[!is.na(d$BCVA_CHG), ]
  form <- BCVA_CHG ~ BCVA_BL + RACE + ARMCD * AVISIT
}
d$AVISIT <- factor(d$AVISIT)
d$visit_index <- as.integer(d$AVISIT)
times <- numeric(repeats)
for (i in seq_len(repeats)) {
  start <- proc.time()[["elapsed"]]
  fit <- gls(form, data = d, method = "REML",
             correlation = corSymm(form = ~ visit_index | USUBJID),
             weights = varIdent(form = ~ 1 | AVISIT))
  times[i] <- proc.time()[["elapsed"]] - start
}
cat(sprintf('{"seconds": [%s], "minus2_reml_loglik": %.10f}\n',
            paste(sprintf("%.6f", times), collapse = ", "), -2 * as.numeric(logLik(fit))))
