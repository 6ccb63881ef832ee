# Reference p-values for the Mann-Whitney kernel of tk.power.simulate
# (tests/power/simulation/test_kernel_mann_whitney.py): R's wilcox.test with the normal approximation,
# its tie correction and its continuity correction, of each arm (x) against control (y).
# Run from this directory:  R CMD BATCH --no-save --no-restore power_mann_whitney.R
# Writes datasets.csv (dataset, arm, value; arm 0 = control) and expected.csv (dataset, arm, W, p).
set.seed(20261201)
rows <- list()
add <- function(name, value, sizes) {
  rows[[length(rows) + 1]] <<- data.frame(dataset = name, arm = rep(seq_along(sizes) - 1L, sizes), value = value)
}
# counts: many ties
add("poisson", c(rpois(12, 2), rpois(15, 3)), c(12, 15))
add("negative_binomial_3_arms", c(rnbinom(10, size = 1.5, mu = 3), rnbinom(9, size = 1.5, mu = 6),
                                  rnbinom(11, size = 1.5, mu = 2)), c(10, 9, 11))
add("poisson_null", c(rpois(30, 1), rpois(30, 1)), c(30, 30))
add("mostly_zero", c(0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 0, 1), c(5, 7))
# continuous: no ties, and ties from rounding
add("normal", c(rnorm(8), rnorm(8, 1)), c(8, 8))
add("normal_rounded_3_arms", round(c(rnorm(20), rnorm(18, 0.5), rnorm(22, -0.3)), 1), c(20, 18, 22))
add("large_values", 1e6 + c(rnorm(14), rnorm(13, 0.8)), c(14, 13))
# small and symmetric: W at its null mean (z = 0, p = 1); one subject in control
add("symmetric", c(1, 2, 1, 2), c(2, 2))
add("one_control", c(3, 4, 5, 6), c(1, 3))
# complete separation
add("separated", c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), c(5, 5))
data <- do.call(rbind, rows)

out <- list()
for (name in unique(data$dataset)) {
  d <- data[data$dataset == name, ]
  for (j in setdiff(sort(unique(d$arm)), 0L)) {
    test <- wilcox.test(d$value[d$arm == j], d$value[d$arm == 0L], exact = FALSE, correct = TRUE)
    out[[length(out) + 1]] <- data.frame(dataset = name, arm = j, W = unname(test$statistic), p = test$p.value)
  }
}
expected <- do.call(rbind, out)
fmt <- function(x) sprintf("%.17g", x)
write.csv(transform(data, value = fmt(value)), "datasets.csv", row.names = FALSE, quote = FALSE)
write.csv(transform(expected, W = fmt(W), p = fmt(p)), "expected.csv", row.names = FALSE, quote = FALSE)
print(expected, digits = 17)
sessionInfo()
