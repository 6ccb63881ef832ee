# Reference values for trialkit.reproduce.audit.audit_abstract, computed by base R (stats).
# Run from the repository root:
#   Rscript tests/reference/abstract_audit/implied.R
# Writes tests/reference/abstract_audit/expected.csv and versions.txt beside this file.
#
# expected.csv is long: one row per (case, quantity), numbers at 17 significant digits so they
# round-trip exactly. Columns: kind, case, test, p, n_treatment, n_control, d, power, quantity, value.
#
# kind = "implied": from a two-sided p and the group sizes under an assumed test
#   df    = n1 + n0 - 2 (student_end, student_change), min(n1, n0) - 1 (welch_min_df), n - 1 (paired)
#   scale = sqrt(1/n1 + 1/n0) (two-sample) or 1/sqrt(n) (paired)
#   t     = qt(p/2, df, lower.tail = FALSE)              (|t| implied by p)
#   d     = t * scale
#   J     = exp(lgamma(nu/2) - lgamma((nu-1)/2)) / sqrt(nu/2), nu = n1 + n0 - 2 (n - 1 paired)
#   g     = J * d
#   d_ci_low, d_ci_high: noncentrality limits solving pt(t, df, ncp) = 0.975 and 0.025 (uniroot,
#         tol = 1e-13 on ncp; pt's noncentral algorithm AS 243 has errmax 1e-12), times scale.
# kind = "power": power of the two-sided two-sample t at standardised effect d, both tails:
#   n1 == n0: power.t.test(n, delta = d, strict = TRUE)$power   (R's default strict = FALSE
#             drops the far tail);
#   n1 != n0: the same expression with nu = n1 + n0 - 2 and ncp = d / sqrt(1/n1 + 1/n0).
# kind = "mde": smallest d with the given power:
#   n1 == n0: power.t.test(n, delta = NULL, power, strict = TRUE, tol = 1e-12)$delta. The default
#             tol = .Machine$double.eps^0.25 (about 1.2e-4, absolute on delta) is far too coarse for
#             a 1e-8 comparison, hence tol = 1e-12;
#   n1 != n0: uniroot on the power expression above, tol = 1e-14.
# The paired case is Student's sleep data (datasets::sleep): p from t.test(paired = TRUE), so the
# implied t must equal the observed t (also stored, quantity "t_observed").

power_two <- function(d, n1, n0, alpha = 0.05) {
  nu <- n1 + n0 - 2
  ncp <- d / sqrt(1 / n1 + 1 / n0)
  q <- qt(alpha / 2, nu, lower.tail = FALSE)
  pt(q, nu, ncp = ncp, lower.tail = FALSE) + pt(-q, nu, ncp = ncp, lower.tail = TRUE)
}
hedges_j <- function(nu) exp(lgamma(nu / 2) - lgamma((nu - 1) / 2)) / sqrt(nu / 2)
ncp_limit <- function(t, df, target) {
  # pt(t, df, ncp) decreases in ncp; start narrow (pnt loses precision far from t) and widen
  uniroot(function(ncp) pt(t, df, ncp = ncp) - target, c(t - 3, t + 3), tol = 1e-13,
          extendInt = "downX", maxiter = 10000)$root
}

rows <- list()
add <- function(kind, case, test, p, n1, n0, d, power, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(
    kind = kind, case = case, test = test, p = sprintf("%.17g", p), n_treatment = n1,
    n_control = n0, d = sprintf("%.17g", d), power = sprintf("%.17g", power),
    quantity = quantity, value = sprintf("%.17g", value))
}

implied <- function(case, test, p, n1, n0) {
  if (test == "paired") {
    df <- n1 - 1; scale <- 1 / sqrt(n1); nu <- n1 - 1
  } else {
    df <- if (test == "welch_min_df") min(n1, n0) - 1 else n1 + n0 - 2
    scale <- sqrt(1 / n1 + 1 / n0); nu <- n1 + n0 - 2
  }
  t <- qt(p / 2, df, lower.tail = FALSE)
  d <- t * scale
  j <- hedges_j(nu)
  values <- c(df = df, t = t, d = d, j = j, g = j * d,
              d_ci_low = ncp_limit(t, df, 0.975) * scale, d_ci_high = ncp_limit(t, df, 0.025) * scale)
  for (q in names(values)) add("implied", case, test, p, n1, n0, NA, NA, q, values[[q]])
}

# the ten p-values of the 2012 abstract (a bound "< 0.001" at its value), 43 analysed split 22/21
published <- c(sleep_time = 0.002, sleep_efficiency = 0.03, renin = 0.001, melatonin = 0.007,
               isi = 0.006, sleep_onset_latency = 0.02, cortisol = 0.008, early_awakening = 0.08,
               serum_magnesium = 0.06, total_sleep_time = 0.37)
for (case in names(published)) {
  for (test in c("student_end", "welch_min_df")) implied(case, test, published[[case]], 22, 21)
}
# other shapes: tiny and large p, small and unequal groups
others <- list(a = c(0.0006, 30, 25), b = c(0.5, 10, 10), c = c(0.049, 5, 7), e = c(1e-6, 50, 50),
               f = c(0.999, 12, 15), h = c(0.05, 2, 3))
for (case in names(others)) {
  x <- others[[case]]
  implied(case, "student_end", x[1], x[2], x[3])
}
# paired: Student's sleep data
x <- with(sleep, extra[group == 1]); y <- with(sleep, extra[group == 2])
tt <- t.test(y, x, paired = TRUE)
implied("sleep", "paired", tt$p.value, 10, 10)
add("implied", "sleep", "paired", tt$p.value, 10, 10, NA, NA, "t_observed", unname(tt$statistic))

# power: equal n through power.t.test, unequal through the same expression
for (n in c(10, 21, 23, 64)) {
  for (d in c(0.2, 0.5, 0.8, 1.0, 1.5)) {
    add("power", sprintf("n%d", n), "student_end", NA, n, n, d, NA, "power",
        power.t.test(n = n, delta = d, sd = 1, sig.level = 0.05, strict = TRUE)$power)
  }
}
for (nn in list(c(22, 21), c(30, 12), c(5, 9))) {
  for (d in c(0.2, 0.5, 0.8, 1.0, 1.5)) {
    add("power", sprintf("n%d_%d", nn[1], nn[2]), "student_end", NA, nn[1], nn[2], d, NA, "power",
        power_two(d, nn[1], nn[2]))
  }
}
# minimal detectable effect
for (n in c(10, 21, 23, 64)) {
  for (target in c(0.8, 0.9)) {
    add("mde", sprintf("n%d", n), "student_end", NA, n, n, NA, target, "d",
        power.t.test(n = n, delta = NULL, sd = 1, sig.level = 0.05, power = target, strict = TRUE,
                     tol = 1e-12)$delta)
  }
}
for (nn in list(c(22, 21), c(30, 12), c(5, 9))) {
  for (target in c(0.8, 0.9)) {
    root <- uniroot(function(d) power_two(d, nn[1], nn[2]) - target, c(1e-7, 20), tol = 1e-14,
                    maxiter = 10000)$root
    add("mde", sprintf("n%d_%d", nn[1], nn[2]), "student_end", NA, nn[1], nn[2], NA, target, "d", root)
  }
}

out <- do.call(rbind, rows)
out[out == "NA"] <- ""
here <- "tests/reference/abstract_audit"
write.csv(out, file.path(here, "expected.csv"), row.names = FALSE, quote = FALSE, na = "")
writeLines(c(R.version.string, sprintf("platform: %s", R.version$platform),
             sprintf("stats: %s", packageVersion("stats"))),
           file.path(here, "versions.txt"))
