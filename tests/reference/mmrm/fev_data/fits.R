# Reference fits of fev_data for every covariance type (REML; ML for us and cs).
# Run from this folder:  Rscript fits.R > fits.Rout 2>&1
# Writes <type>_<reml|ml>.json; see README.md.
source("../mmrm_reference_lib.R")

raw <- read.csv("fev_data.csv", stringsAsFactors = FALSE)
visits <- c("VIS1", "VIS2", "VIS3", "VIS4")
data <- raw[!is.na(raw$FEV1), ]  # analysed rows: response observed
data$ARMCD <- factor(data$ARMCD, levels = c("PBO", "TRT"))
data$AVISIT <- factor(data$AVISIT, levels = visits)
data$RACE <- factor(data$RACE, levels = c("Asian", "Black or African American", "White"))
data$SEX <- factor(data$SEX, levels = c("Male", "Female"))
data$VISIT_INDEX <- as.integer(data$AVISIT)
data <- data[order(as.integer(sub("PT", "", data$USUBJID)), data$VISIT_INDEX), ]

cfg <- list(
  dataset = "fev_data", data = data, formula = FEV1 ~ ARMCD * AVISIT + RACE + SEX,
  subject = "USUBJID", visit = "AVISIT", arm = "ARMCD", control = "PBO", visits = visits,
  reference_levels = list(ARMCD = "PBO", AVISIT = "VIS1", RACE = "Asian", SEX = "Male"),
  model_text = paste("FEV1 ~ ARMCD * AVISIT + RACE + SEX (SAS: MODEL FEV1 = ARMCD AVISIT ARMCD*AVISIT RACE SEX),",
                     "residual covariance over AVISIT within USUBJID; rows with FEV1 missing left out")
)
run_reference_fits(cfg)
run_kenward_roger(cfg)
sessionInfo()
