# Reference fits of log_scale for every covariance type (REML; ML for us and cs), on the log scale:
# log(CRP) ~ ARMCD * AVISIT + SEVERITY + log(CRP_BL).
# Run from this folder:  Rscript fits.R > fits.Rout 2>&1
source("../mmrm_reference_lib.R")

raw <- read.csv("log_scale.csv", stringsAsFactors = FALSE)
visits <- paste0("VIS", 1:4)
data <- raw[!is.na(raw$CRP), ]
# the logs as columns, so that LS means are at the mean of log(CRP_BL) (not the log of the mean of CRP_BL)
data$LOG_CRP <- log(data$CRP)
data$LOG_CRP_BL <- log(data$CRP_BL)
data$ARMCD <- factor(data$ARMCD, levels = c("PBO", "TRT"))
data$AVISIT <- factor(data$AVISIT, levels = visits)
data$SEVERITY <- factor(data$SEVERITY, levels = c("mild", "moderate", "severe"))
data$VISIT_INDEX <- as.integer(data$AVISIT)
data <- data[order(data$USUBJID, data$VISIT_INDEX), ]

cfg <- list(
  dataset = "log_scale", data = data, formula = LOG_CRP ~ ARMCD * AVISIT + SEVERITY + LOG_CRP_BL,
  subject = "USUBJID", visit = "AVISIT", arm = "ARMCD", control = "PBO", visits = visits,
  reference_levels = list(ARMCD = "PBO", AVISIT = "VIS1", SEVERITY = "mild"),
  model_text = paste("LOG_CRP ~ ARMCD * AVISIT + SEVERITY + LOG_CRP_BL with LOG_CRP = log(CRP), LOG_CRP_BL =",
                     "log(CRP_BL) (natural logs); residual covariance over AVISIT within USUBJID; rows with CRP",
                     "missing left out; LS means at the mean of LOG_CRP_BL over the analysed rows")
)
run_reference_fits(cfg)
sessionInfo()
