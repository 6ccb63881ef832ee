# Reference values for trialkit.summary.describe_endpoints, computed by R on
# tests/fixtures/formats/trial_wide.csv. Run from the repository root:
#   Rscript tests/reference/summary/summary.R
# Writes tests/reference/summary/expected.csv (full precision, 17 significant digits).
wide <- read.csv("tests/fixtures/formats/trial_wide.csv", stringsAsFactors = FALSE)
endpoints <- c("isi", "sleep_time", "melatonin")
visits <- c("baseline", "week4", "week8")
rows <- list()
stat_row <- function(x, endpoint, visit, arm, quantity) {
  n_all <- length(x)
  x <- x[!is.na(x)]
  q <- quantile(x, c(0.25, 0.75), type = 7, names = FALSE)
  data.frame(endpoint = endpoint, visit = visit, arm = arm, quantity = quantity,
             n = length(x), n_missing = n_all - length(x), mean = mean(x), sd = sd(x),
             median = median(x), q1 = q[1], q3 = q[2], min = min(x), max = max(x))
}
for (e in endpoints) for (v in visits) for (a in c("placebo", "active")) {
  part <- wide[wide$arm == a, ]
  rows[[length(rows) + 1]] <- stat_row(part[[paste0(e, "_", v)]], e, v, a, "value")
  if (v != "baseline") {
    chg <- part[[paste0(e, "_", v)]] - part[[paste0(e, "_baseline")]]
    rows[[length(rows) + 1]] <- stat_row(chg, e, v, a, "change")
  }
}
out <- do.call(rbind, rows)
num <- c("mean", "sd", "median", "q1", "q3", "min", "max")
out[num] <- lapply(out[num], function(x) sprintf("%.17g", x))
write.csv(out, "tests/reference/summary/expected.csv", row.names = FALSE, quote = TRUE)
writeLines(R.version.string, "tests/reference/summary/versions.txt")
