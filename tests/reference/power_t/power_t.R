# Reference values for trialkit.power, test "t" (tests/power/test_continuous.py).
# Run from this directory:  R CMD BATCH --no-save --no-restore power_t.R
source("../power_common/power_common.R")  # packages, precision, the Dunnett critical value
add <- function(case, quantity, n_control, n_arm, arms, allocation, effect, sd, alpha, sided,
                multiplicity, target, value, r_function) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, n_control = n_control,
    n_arm = n_arm, arms = arms, allocation = allocation, effect = effect, sd = sd, alpha = alpha,
    sided = sided, multiplicity = multiplicity, target = target, value = value, r_function = r_function)
}

# power at given n: power.t.test (strict = TRUE counts both tails) and pwr::pwr.t.test
for (n in c(5, 20, 64, 200)) for (delta in c(0.3, 0.8)) for (alpha in c(0.01, 0.05)) {
  p <- power.t.test(n = n, delta = delta, sd = 1, sig.level = alpha, strict = TRUE)$power
  add(sprintf("strict n=%d d=%g a=%g", n, delta, alpha), "power", n, n, 1, NA, delta, 1, alpha, 2, "",
      NA, p, "power.t.test(strict=TRUE)")
  q <- pwr.t.test(n = n, d = delta, sig.level = alpha)$power
  add(sprintf("pwr n=%d d=%g a=%g", n, delta, alpha), "power", n, n, 1, NA, delta, 1, alpha, 2, "",
      NA, q, "pwr::pwr.t.test")
}
# effect on the outcome scale: delta = 3, sd = 7; one-sided; negative effect (two-sided is symmetric)
add("scale", "power", 40, 40, 1, NA, 3, 7, 0.05, 2, "", NA,
    power.t.test(n = 40, delta = 3, sd = 7, strict = TRUE)$power, "power.t.test(strict=TRUE)")
add("negative", "power", 40, 40, 1, NA, -3, 7, 0.05, 2, "", NA,
    pwr.t.test(n = 40, d = -3 / 7)$power, "pwr::pwr.t.test")
for (n in c(10, 50)) add(sprintf("one-sided n=%d", n), "power", n, n, 1, NA, 0.5, 1, 0.025, 1, "", NA,
    power.t.test(n = n, delta = 0.5, sig.level = 0.025, alternative = "one.sided")$power,
    "power.t.test(alternative='one.sided')")
add("one-sided negative", "power", 30, 30, 1, NA, -0.6, 1, 0.05, 1, "", NA,
    pwr.t.test(n = 30, d = -0.6, alternative = "less")$power, "pwr::pwr.t.test(alternative='less')")
# unequal n: pwr.t2n.test (n1 = control, n2 = arm; two-sided, both tails)
for (nn in list(c(20, 40), c(50, 25), c(7, 93))) {
  add(sprintf("t2n %d/%d", nn[1], nn[2]), "power", nn[1], nn[2], 1, NA, 0.6, 1, 0.05, 2, "", NA,
      pwr.t2n.test(n1 = nn[1], n2 = nn[2], d = 0.6)$power, "pwr::pwr.t2n.test")
}
add("t2n one-sided", "power", 30, 60, 1, NA, 0.5, 1, 0.05, 1, "", NA,
    pwr.t2n.test(n1 = 30, n2 = 60, d = 0.5, alternative = "greater")$power,
    "pwr::pwr.t2n.test(alternative='greater')")

# sample size: ceiling of power.t.test's continuous n (default and strict give the same here)
for (delta in c(0.2, 0.5, 1.0)) for (target in c(0.8, 0.9)) for (sided in 1:2) {
  alt <- if (sided == 1) "one.sided" else "two.sided"
  n <- power.t.test(power = target, delta = delta, sig.level = 0.05, alternative = alt, strict = TRUE)$n
  n_default <- power.t.test(power = target, delta = delta, sig.level = 0.05, alternative = alt)$n
  stopifnot(ceiling(n) == ceiling(n_default))
  add(sprintf("n d=%g power=%g sided=%d", delta, target, sided), "n", NA, ceiling(n), 1, 1, delta, 1,
      0.05, sided, "", target, ceiling(n), "ceiling(power.t.test(...)$n)")
}
# sample size with allocation: the smallest n0 with pwr.t2n.test power >= target, searched upward
for (allocation in c(2, 0.5, 1.5)) {
  n0 <- 2
  repeat {
    n1 <- max(2, ceiling(allocation * n0 - 1e-9))
    if (pwr.t2n.test(n1 = n0, n2 = n1, d = 0.5)$power >= 0.8) break
    n0 <- n0 + 1
  }
  add(sprintf("n allocation=%g", allocation), "n", NA, n1, 1, allocation, 0.5, 1, 0.05, 2, "", 0.8, n0,
      "smallest n0: pwr::pwr.t2n.test(n1=n0, n2=ceiling(r*n0)) >= power")
}
# effect at given n: power.t.test(delta = NULL, strict = TRUE, tol = 1e-12) and uniroot (tol 1e-13)
# on pwr::pwr.t2n.test's power (pwr's own d = NULL solves to uniroot's default tol, about 1e-4)
add("effect n=64", "effect", 64, 64, 1, NA, NA, 1, 0.05, 2, "", 0.8,
    power.t.test(n = 64, power = 0.8, sig.level = 0.05, strict = TRUE, tol = 1e-12)$delta,
    "power.t.test(delta=NULL, strict=TRUE, tol=1e-12)")
add("effect n=20 sd=4", "effect", 20, 20, 1, NA, NA, 4, 0.05, 2, "", 0.9,
    power.t.test(n = 20, sd = 4, power = 0.9, strict = TRUE, tol = 1e-12)$delta,
    "power.t.test(delta=NULL, strict=TRUE, tol=1e-12)")
add("effect one-sided", "effect", 30, 30, 1, NA, NA, 1, 0.025, 1, "", 0.8,
    power.t.test(n = 30, power = 0.8, sig.level = 0.025, alternative = "one.sided", tol = 1e-12)$delta,
    "power.t.test(delta=NULL, one.sided, tol=1e-12)")
add("effect t2n", "effect", 20, 40, 1, NA, NA, 1, 0.05, 2, "", 0.8,
    uniroot(function(d) pwr.t2n.test(n1 = 20, n2 = 40, d = d)$power - 0.8, c(1e-6, 5), tol = 1e-13)$root,
    "uniroot(tol=1e-13) on pwr::pwr.t2n.test power")

# k arms against control: Bonferroni (pt at alpha / k) and Dunnett (TVPACK critical value)
for (crit in c("bonferroni", "dunnett")) for (k in 2:3) {
  add(sprintf("%s k=%d power", crit, k), "power", 30, 30, k, NA, 0.7, 1, 0.05, 2, crit, NA,
      t_power(30, rep(30, k), 0.7, 1, 0.05, 2, crit), "pt(ncp) at the adjusted critical value")
  n <- smallest_n(0.8, 1, k, effect = 0.7, sd = 1, alpha = 0.05, sided = 2, crit = crit)
  add(sprintf("%s k=%d n", crit, k), "n", NA, n[2], k, 1, 0.7, 1, 0.05, 2, crit, 0.8, n[1],
      "smallest n0 by upward search on the exact power")
}
add("dunnett unequal", "power", 20, 35, 2, NA, 0.8, 1, 0.05, 2, "dunnett", NA,
    t_power(20, c(35, 35), 0.8, 1, 0.05, 2, "dunnett"), "pt(ncp) at the TVPACK Dunnett critical value")
add("bonferroni one-sided", "power", 25, 25, 2, NA, 0.8, 1, 0.05, 1, "bonferroni", NA,
    t_power(25, c(25, 25), 0.8, 1, 0.05, 1, "bonferroni"), "pt(ncp) at qt(1 - alpha / k)")
n <- smallest_n(0.9, 2, 2, effect = 0.5, sd = 1, alpha = 0.05, sided = 2, crit = "dunnett")
add("dunnett allocation=2 n", "n", NA, n[2], 2, 2, 0.5, 1, 0.05, 2, "dunnett", 0.9, n[1],
    "smallest n0 by upward search on the exact power")

out <- do.call(rbind, rows)
write.csv(out, "expected.csv", row.names = FALSE, na = "")
print(out[, c("case", "quantity", "value")])
sessionInfo()
