# Reference baseline tests for trialkit.analysis.table1.baseline_p_values (the opt-in Table 1 p-values).
# Run from the repository root: Rscript tests/reference/analyses/baseline_p.R
# For each case: numeric covariates and endpoint baselines -> anova(lm(x ~ arm)) F test;
# categorical covariates -> chisq.test(table(arm, x), correct = FALSE). Missing values dropped per variable.
cases <- list(
  abbasi2012 = list(numeric = c("age"), categorical = c("sex"),
                    endpoints = c("isi", "sleep_time", "sleep_efficiency", "sleep_onset_latency", "early_awakening",
                                  "serum_magnesium", "melatonin", "cortisol", "renin", "total_sleep_time")),
  three_arm = list(numeric = c("age"), categorical = c("sex", "region"), endpoints = c("score", "biomarker", "walk")),
  missing = list(numeric = c("age"), categorical = character(0), endpoints = c("pain", "qol"))
)
f17 <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
for (name in names(cases)) {
  spec <- cases[[name]]
  d <- read.csv(file.path("tests/reference/analyses", name, "trial.csv"), stringsAsFactors = FALSE,
                colClasses = c(subject_id = "character"))
  rows <- list()
  for (v in c(spec$numeric, spec$categorical, paste0(spec$endpoints, "_baseline"))) {
    var <- sub("_baseline$", "", v)
    x <- d[[v]]; arm <- d$arm
    keep <- !is.na(x) & x != ""
    if (v %in% spec$categorical) {
      t <- chisq.test(table(arm[keep], x[keep]), correct = FALSE)
      rows[[length(rows) + 1]] <- data.frame(variable = var, test = "chi_square", statistic = f17(unname(t$statistic)),
                                             df = f17(unname(t$parameter)), df_denominator = "", p_value = f17(t$p.value))
    } else {
      a <- anova(lm(x[keep] ~ factor(arm[keep])))
      rows[[length(rows) + 1]] <- data.frame(variable = var, test = "anova_f", statistic = f17(a$`F value`[1]),
                                             df = f17(a$Df[1]), df_denominator = f17(a$Df[2]), p_value = f17(a$`Pr(>F)`[1]))
    }
  }
  write.csv(do.call(rbind, rows), file.path("tests/reference/analyses", name, "expected_baseline_p.csv"),
            row.names = FALSE)
}
