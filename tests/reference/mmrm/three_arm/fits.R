# Reference fits of three_arm for every covariance type (REML; ML for us and cs) and Kenward-Roger for cs.
# Run from this folder:  Rscript fits.R > fits.Rout 2>&1
source("../mmrm_reference_lib.R")

raw <- read.csv("three_arm.csv", stringsAsFactors = FALSE)
visits <- paste0("VIS", 1:5)
data <- raw[!is.na(raw$SCORE), ]
data$ARMCD <- factor(data$ARMCD, levels = c("PBO", "LOW", "HIGH"))  # control first, not alphabetical
data$AVISIT <- factor(data$AVISIT, levels = visits)
data$SEX <- factor(data$SEX, levels = c("F", "M"))
data$VISIT_INDEX <- as.integer(data$AVISIT)
data <- data[order(data$USUBJID, data$VISIT_INDEX), ]

cfg <- list(
  dataset = "three_arm", data = data, formula = SCORE ~ ARMCD * AVISIT + AGE + SEX + SCORE_BL,
  subject = "USUBJID", visit = "AVISIT", arm = "ARMCD", control = "PBO", visits = visits,
  reference_levels = list(ARMCD = "PBO", AVISIT = "VIS1", SEX = "F"),
  model_text = paste("SCORE ~ ARMCD * AVISIT + AGE + SEX + SCORE_BL; residual covariance over AVISIT within",
                     "USUBJID; rows with SCORE missing left out; LS means at the means of AGE and SCORE_BL over",
                     "the analysed rows, SEX levels weighted equally")
)
run_reference_fits(cfg)
run_kenward_roger(cfg)
sessionInfo()
