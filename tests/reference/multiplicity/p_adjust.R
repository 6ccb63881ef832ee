# Reference values for trialkit.analysis.multiplicity.adjust_p, computed by R's p.adjust.
# Run from the repository root:
#   Rscript tests/reference/multiplicity/p_adjust.R
# Writes tests/reference/multiplicity/expected.csv (long format: case, position, p, method,
# adjusted; numbers at 17 significant digits so they round-trip exactly) and versions.txt.
# fixed_sequence is not a p.adjust method: its reference is the running maximum, cummax(p).
set.seed(20240101)
cases <- list(
  mixed = c(0.01, 0.04, 0.03, 0.005, 0.2),
  ties = c(0.02, 0.02, 0.01, 0.04, 0.04, 0.5),
  all_equal = rep(0.03, 4),
  caps = c(0.3, 0.6, 0.9, 0.45),
  bounds = c(0, 1, 0.5, 0, 1e-10),
  single = 0.03,
  pair = c(0.04, 0.01),
  sequence = c(0.01, 0.03, 0.02, 0.2, 0.04),
  random20 = runif(20)^3
)
methods <- c(holm = "holm", hochberg = "hochberg", bonferroni = "bonferroni", bh = "BH")
rows <- list()
for (case in names(cases)) {
  p <- cases[[case]]
  adjusted <- c(lapply(methods, function(m) p.adjust(p, m)),
                list(fixed_sequence = cummax(p), none = p.adjust(p, "none")))
  for (m in names(adjusted)) {
    rows[[length(rows) + 1]] <- data.frame(case = case, position = seq_along(p) - 1L,
                                           p = sprintf("%.17g", p), method = m,
                                           adjusted = sprintf("%.17g", adjusted[[m]]))
  }
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/multiplicity/expected.csv", row.names = FALSE, quote = TRUE)
writeLines(R.version.string, "tests/reference/multiplicity/versions.txt")
# Console record of the small cases, for reading by eye:
for (case in c("mixed", "ties", "caps")) {
  cat(case, "\n")
  print(sapply(methods, function(m) p.adjust(cases[[case]], m)))
}
