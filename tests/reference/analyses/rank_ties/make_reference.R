# Wilcoxon tests where R gives no interval, or one at another level: what R returns and warns.
#
# Run from the repository root:
#   Rscript tests/reference/analyses/rank_ties/make_reference.R
#
# For every case in cases.csv (written here: case, test, x, y; values ;-separated) runs
#   signed_rank:  wilcox.test(x, conf.int = TRUE)
#   mann_whitney: wilcox.test(x, y, conf.int = TRUE), and, when that stops with an error,
#                 wilcox.test(x, y) for the statistic and p-value
# and writes expected.csv: statistic, p_value, estimate, ci_low, ci_high, conf_level (the
# "conf.level" attribute R sets on the interval), the warnings (;-joined) and the error, if any.
# Numbers with sprintf("%.17g"); NA and NaN as empty fields (NaN is what R returns there).

HERE <- "tests/reference/analyses/rank_ties"
if (!dir.exists(HERE)) stop("run from the repository root")

cases <- list(
  # every non-zero change the same: no interval (R: NaN, warning), estimate the "midrange"
  list("sr_all_equal", "signed_rank", c(2, 2, 2, 2, 2), NULL),
  list("sr_all_equal_negative_n60", "signed_rank", rep(-1.5, 60), NULL),
  list("sr_equal_with_zeros", "signed_rank", c(0, 0, 3, 3, 3, 3), NULL),
  list("sr_one_nonzero", "signed_rank", c(0, 0, 0, 3), NULL),
  # every change zero: no test at all (R: V = 0, p = NaN)
  list("sr_all_zero", "signed_rank", c(0, 0, 0, 0), NULL),
  # ties, interval exists but the 95% level is out of reach: R doubles alpha and warns
  list("sr_two_values", "signed_rank", c(1, 1, 3, 3, 3), NULL),
  list("sr_mixed_sign_tied", "signed_rank", c(-2, 2, 2, 2, -2), NULL),
  # exact path with too few values for 95%
  list("sr_exact_n4", "signed_rank", c(1.5, -0.4, 2.2, 3.1), NULL),
  # ties everywhere but an interval at 95%
  list("sr_integer_ties", "signed_rank", c(-3, -1, 0, 1, 1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 7), NULL),
  # each arm constant: R stops with an error when asked for the interval
  list("mw_constant_arms", "mann_whitney", rep(2, 5), rep(1, 6)),
  list("mw_single_vs_constant", "mann_whitney", 2, c(1, 1, 1)),
  list("mw_constant_decimals", "mann_whitney", rep(-1.8, 3), rep(0.2, 4)),
  # every value the same: no test (p = NaN)
  list("mw_all_equal", "mann_whitney", rep(1, 4), rep(1, 5)),
  # one arm constant, the other not: an interval exists
  list("mw_one_constant_arm", "mann_whitney", rep(3, 6), c(1, 2, 2, 4, 5)),
  # exact path with too few values for 95%
  list("mw_exact_small", "mann_whitney", c(1.1, 2.3, 3.8), c(0.2, 0.9)),
  # ties everywhere but an interval at 95%
  list("mw_integer_ties", "mann_whitney", c(3, 4, 4, 5, 6, 6, 7, 8), c(1, 2, 2, 3, 3, 4, 5))
)

fmt <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) "" else sprintf("%.17g", x)
run <- function(expr) {
  warnings <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) structure(list(message = conditionMessage(e)), class = "failed")),
    warning = function(w) { warnings <<- c(warnings, conditionMessage(w)); invokeRestart("muffleWarning") }
  )
  list(value = value, warnings = unique(warnings))
}

input <- character(0)
out <- character(0)
for (case in cases) {
  name <- case[[1]]; test <- case[[2]]; x <- case[[3]]; y <- case[[4]]
  input <- c(input, paste(name, test, paste(sprintf("%.17g", x), collapse = ";"),
                          if (is.null(y)) "" else paste(sprintf("%.17g", y), collapse = ";"), sep = ","))
  r <- if (test == "signed_rank") run(wilcox.test(x, conf.int = TRUE)) else run(wilcox.test(x, y, conf.int = TRUE))
  error <- ""
  res <- r$value
  if (inherits(res, "failed")) {
    error <- res$message
    res <- suppressWarnings(wilcox.test(x, y))
    res$estimate <- NA
    res$conf.int <- structure(c(NA, NA), conf.level = NA)
  }
  out <- c(out, paste(name, test, fmt(res$statistic), fmt(res$p.value), fmt(res$estimate), fmt(res$conf.int[1]),
                      fmt(res$conf.int[2]), fmt(attr(res$conf.int, "conf.level")),
                      gsub(",", "", paste(r$warnings, collapse = "; ")), gsub(",", "", error), sep = ","))
}
writeLines(c("case,test,x,y", input), file.path(HERE, "cases.csv"))
writeLines(c("case,test,statistic,p_value,estimate,ci_low,ci_high,conf_level,warnings,error", out),
           file.path(HERE, "expected.csv"))
writeLines(R.version.string, file.path(HERE, "versions.txt"))
