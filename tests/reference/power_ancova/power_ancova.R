# Reference values for trialkit.power, test "ancova" (tests/power/test_continuous.py).
# Run from this directory:  R CMD BATCH --no-save --no-restore power_ancova.R
# ANCOVA power: the noncentral t with the residual sd sd * sqrt(1 - rho^2) on N - (k + 1) - 1 df
# (N total, k arms against control), computed with pt(q, df, ncp) in R.
source("../power_common/power_common.R")  # packages, precision, the Dunnett critical value
add <- function(case, quantity, n_control, n_arm, arms, allocation, effect, sd, rho, alpha, sided,
                multiplicity, target, value, r_function) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, quantity = quantity, n_control = n_control,
    n_arm = n_arm, arms = arms, allocation = allocation, effect = effect, sd = sd, rho = rho,
    alpha = alpha, sided = sided, multiplicity = multiplicity, target = target, value = value,
    r_function = r_function)
}
src <- "pt(q, df = N - 3, ncp = effect / (sd * sqrt(1 - rho^2) * sqrt(1/n0 + 1/n1)))"

# power at given n, two arms: df = N - 3
for (n in c(6, 20, 40, 150)) for (rho in c(-0.4, 0, 0.5, 0.9)) {
  add(sprintf("power n=%d rho=%g", n, rho), "power", n, n, 1, NA, 5, 10, rho, 0.05, 2, "", NA,
      t_power(n, n, 5, 10, 0.05, 2, "", extra = 1, rho = rho), src)
}
add("unequal 30/45", "power", 30, 45, 1, NA, 0.4, 1, 0.6, 0.05, 2, "", NA,
    t_power(30, 45, 0.4, 1, 0.05, 2, "", extra = 1, rho = 0.6), src)
add("one-sided", "power", 25, 25, 1, NA, 0.5, 1, 0.5, 0.025, 1, "", NA,
    t_power(25, 25, 0.5, 1, 0.025, 1, "", extra = 1, rho = 0.5), src)
add("negative effect", "power", 25, 25, 1, NA, -0.5, 1, 0.5, 0.05, 2, "", NA,
    t_power(25, 25, -0.5, 1, 0.05, 2, "", extra = 1, rho = 0.5), src)
# sample size: smallest n0 by upward search on the exact power
for (rho in c(0, 0.5, 0.8)) for (sided in 1:2) for (allocation in c(1, 2)) {
  n <- smallest_n(0.8, allocation, 1, effect = 0.4, sd = 1, alpha = 0.05, sided = sided, crit = "",
                  extra = 1, rho = rho)
  add(sprintf("n rho=%g sided=%d allocation=%g", rho, sided, allocation), "n", NA, n[2], 1, allocation,
      0.4, 1, rho, 0.05, sided, "", 0.8, n[1], "smallest n0 by upward search on the exact power")
}
# effect at given n: uniroot (tol 1e-13) on the exact power
for (rho in c(0.3, 0.7)) {
  d <- uniroot(function(e) t_power(40, 40, e, 2, 0.05, 2, "", extra = 1, rho = rho) - 0.9,
               c(1e-6, 10), tol = 1e-13)$root
  add(sprintf("effect rho=%g", rho), "effect", 40, 40, 1, NA, NA, 2, rho, 0.05, 2, "", 0.9, d,
      "uniroot(tol=1e-13) on the exact power")
}
# k arms against control: df = N - (k + 1) - 1
for (crit in c("bonferroni", "dunnett")) for (k in 2:3) {
  add(sprintf("%s k=%d power", crit, k), "power", 30, 30, k, NA, 0.6, 1, 0.5, 0.05, 2, crit, NA,
      t_power(30, rep(30, k), 0.6, 1, 0.05, 2, crit, extra = 1, rho = 0.5),
      "pt(ncp) at the adjusted critical value")
  n <- smallest_n(0.85, 1, k, effect = 0.6, sd = 1, alpha = 0.05, sided = 2, crit = crit, extra = 1,
                  rho = 0.5)
  add(sprintf("%s k=%d n", crit, k), "n", NA, n[2], k, 1, 0.6, 1, 0.5, 0.05, 2, crit, 0.85, n[1],
      "smallest n0 by upward search on the exact power")
}

out <- do.call(rbind, rows)
write.csv(out, "expected.csv", row.names = FALSE, na = "")
print(out[, c("case", "quantity", "value")])
sessionInfo()
