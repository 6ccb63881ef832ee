# Time R's nlme::gls on an unstructured MMRM (REML): the baseline of the MMRM benchmark.
#
#   Rscript benchmarks/r/mmrm_gls.R DATA_CSV MODEL [REPEATS]
#
# MODEL names one of the fixed models below (no formula text is taken from the command line):
#   fev   FEV1 ~ ARMCD * AVISIT + RACE + SEX            on fev_data  (4 visits, 10 covariance parameters)
#   bcva  BCVA_CHG ~ BCVA_BL + RACE + ARMCD * AVISIT    on bcva_data (10 visits, 55 covariance parameters)
# with gls(correlation = corSymm(~ visit index | USUBJID), weights = varIdent(~ 1 | AVISIT),
# method = "REML") and gls's default convergence tolerances (iteration limits raised to 1000).
# Rows with a missing response are left out before timing. REPEATS (default 11; use 1 for bcva, whose
# single fit takes minutes) fits are timed one by one (wall clock, elapsed) after one untimed warm-up fit
# when REPEATS > 1. Prints one line of JSON on stdout:
#   {"model", "data", "repeats", "median_seconds", "min_seconds", "max_seconds", "seconds",
#    "minus2_reml_loglik", "n_subjects", "n_observations", "r_version", "nlme_version"}

suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2 || !args[2] %in% c("fev", "bcva")) {
  stop("usage: Rscript mmrm_gls.R DATA_CSV fev|bcva [REPEATS]")
}
path <- args[1]
model <- args[2]
repeats <- if (length(args) >= 3) as.integer(args[3]) else 11L
if (is.na(repeats) || repeats < 1) stop("REPEATS must be a positive integer; got ", args[3])

raw <- read.csv(path, stringsAsFactors = FALSE)
if (model == "fev") {
  data <- raw[!is.na(raw$FEV1), ]
  data$ARMCD <- factor(data$ARMCD, levels = c("PBO", "TRT"))
  data$RACE <- factor(data$RACE, levels = c("Asian", "Black or African American", "White"))
  data$SEX <- factor(data$SEX, levels = c("Male", "Female"))
  formula <- FEV1 ~ ARMCD * AVISIT + RACE + SEX
} else {
  data <- raw[!is.na(raw$BCVA_CHG), ]
  data$ARMCD <- factor(data$ARMCD, levels = c("CTL", "TRT"))
  data$RACE <- factor(data$RACE)
  formula <- BCVA_CHG ~ BCVA_BL + RACE + ARMCD * AVISIT
}
data$AVISIT <- factor(data$AVISIT)
data$VISIT_INDEX <- as.integer(data$AVISIT)
data <- data[order(data$USUBJID, data$VISIT_INDEX), ]

fit_once <- function() {
  gls(formula, data = data, method = "REML",
      correlation = corSymm(form = ~ VISIT_INDEX | USUBJID), weights = varIdent(form = ~ 1 | AVISIT),
      control = glsControl(maxIter = 1000, msMaxIter = 1000))
}

if (repeats > 1) invisible(fit_once())  # warm-up: loads code paths, not timed
seconds <- numeric(repeats)
for (i in seq_len(repeats)) {
  seconds[i] <- system.time(fit <- fit_once())[["elapsed"]]
}

cat(toJSON(list(
  model = model, data = path, repeats = repeats,
  median_seconds = median(seconds), min_seconds = min(seconds), max_seconds = max(seconds), seconds = seconds,
  minus2_reml_loglik = -2 * as.numeric(logLik(fit)),
  n_subjects = length(unique(data$USUBJID)), n_observations = nrow(data),
  r_version = as.character(getRversion()), nlme_version = as.character(packageVersion("nlme"))
), auto_unbox = TRUE, digits = I(10)), "\n")
