# Reference t statistics and p-values for the ANCOVA kernel of tk.power.simulate
# (tests/power/simulation/test_kernel_ancova.py): lm(y ~ arm + x), arm a factor with control (0) as
# the reference level, the t test of each arm coefficient.
# Run from this directory:  R CMD BATCH --no-save --no-restore power_ancova_sim.R
# Writes datasets.csv (dataset, arm, x, y; arm 0 = control) and expected.csv (dataset, arm, t, df, p).
set.seed(20261202)
rows <- list()
add <- function(name, sizes, effects, rho = 0.5, mean = 0, sd = 1) {
  arm <- rep(seq_along(sizes) - 1L, sizes)
  x <- rnorm(length(arm))
  y <- rho * x + sqrt(1 - rho^2) * rnorm(length(arm)) + effects[arm + 1L]
  rows[[length(rows) + 1]] <<- data.frame(dataset = name, arm = arm, x = mean + sd * x, y = mean + sd * y)
}
add("two_arms", c(23, 21), c(0, 0.7))
add("unequal", c(12, 30), c(0, 0.4), rho = 0.8)
add("three_arms", c(15, 14, 16), c(0, 0.5, -0.3))
add("large_mean", c(20, 20), c(0, 0.6), mean = 1e6, sd = 3)  # centred sums: no cancellation at 1e6
add("tiny", c(2, 2), c(0, 1))                                # df = 1
add("negative_rho", c(10, 11), c(0, 1), rho = -0.6)
data <- do.call(rbind, rows)

out <- list()
for (name in unique(data$dataset)) {
  d <- data[data$dataset == name, ]
  fit <- summary(lm(y ~ factor(arm) + x, data = d))
  co <- coef(fit)
  for (j in setdiff(sort(unique(d$arm)), 0L)) {
    term <- paste0("factor(arm)", j)
    out[[length(out) + 1]] <- data.frame(dataset = name, arm = j, t = co[term, "t value"],
                                         df = fit$df[2], p = co[term, "Pr(>|t|)"])
  }
}
expected <- do.call(rbind, out)
fmt <- function(v) sprintf("%.17g", v)
write.csv(transform(data, x = fmt(x), y = fmt(y)), "datasets.csv", row.names = FALSE, quote = FALSE)
write.csv(transform(expected, t = fmt(t), p = fmt(p)), "expected.csv", row.names = FALSE, quote = FALSE)
print(expected, digits = 17)
sessionInfo()
