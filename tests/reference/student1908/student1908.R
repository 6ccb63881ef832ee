# Reference values for the reproduction of Student's sleep table (trialkit/datasets/published/student1908.toml):
# what `trialkit reproduce student1908` recomputes from the printed table, computed here independently.
#
#   Student (1908). The probable error of a mean. Biometrika 6(1):1-25, Illustration I (pp. 20-21):
#   10 patients, drug 1 and drug 2; printed Mean 0.75, 2.33, 1.58 (difference 2 - 1) and
#   S.D. 1.70, 1.90, 1.17 with divisor n. Printed p: Student's probability .9985 that 2 is better,
#   encoded as the two-sided p "0.003", i.e. the interval [0.0025, 0.0035).
#
# Run from the repository root:
#   Rscript tests/reference/student1908/student1908.R > tests/reference/student1908/output.txt
# Writes tests/reference/student1908/expected.csv (quantity, value: 17 significant digits) and versions.txt.
out_dir <- "tests/reference/student1908"
fmt <- function(x) sprintf("%.17g", x)
n <- 10
k <- sqrt(n / (n - 1))       # a divisor-n SD times k is the sample SD (divisor n - 1)
h <- 0.005                   # half a unit of the printed second decimal
p_low <- 0.0025              # the interval the printed "0.003" stands for
p_high <- 0.0035

# 1. Paired t from the printed differences (mean 1.58, S.D. 1.17): at the printed values and over every
#    table that prints the same (p falls with |mean| and rises with the SD, so the extremes are corners).
paired_p <- function(m, s) 2 * pt(-abs(m) / (s * k / sqrt(n)), n - 1)
t_printed <- 1.58 / (1.17 * k / sqrt(n))

# 2. The pre-post correlation r for which the per-drug rows alone (S.D. 1.70 and 1.90) give the printed p,
#    with the printed mean difference 1.58. Change variance v(a, b) = a^2 + b^2 - 2 r a b.
v <- function(a, b, r) a^2 + b^2 - 2 * r * a * b
p_of <- function(m, var) 2 * pt(-abs(m) / sqrt(var / n), n - 1)
box_a <- c(1.70 - h, 1.70 + h) * k
box_b <- c(1.90 - h, 1.90 + h) * k
v_min <- function(r) {  # v is convex in (a, b): its minimum over the box, found numerically
  fit <- optim(c(1.70 * k, 1.90 * k), function(x) v(x[1], x[2], r), method = "L-BFGS-B",
               lower = c(box_a[1], box_b[1]), upper = c(box_a[2], box_b[2]),
               control = list(factr = 1, pgtol = 0))
  fit$value
}
v_max <- function(r) max(outer(box_a, box_b, function(a, b) v(a, b, r)))  # a convex function peaks at a corner
p_smallest <- function(r) p_of(1.58 + h, v_min(r))
p_largest <- function(r) p_of(1.58 - h, v_max(r))
r_low <- uniroot(function(r) log(p_smallest(r)) - log(p_high), c(0.5, 0.95), tol = 1e-13)$root
r_high <- uniroot(function(r) log(p_largest(r)) - log(p_low), c(0.5, 0.95), tol = 1e-13)$root
p_exact <- function(r) p_of(1.58, v(1.70 * k, 1.90 * k, r))
r_low_exact <- uniroot(function(r) log(p_exact(r)) - log(p_high), c(0.5, 0.95), tol = 1e-13)$root
r_high_exact <- uniroot(function(r) log(p_exact(r)) - log(p_low), c(0.5, 0.95), tol = 1e-13)$root

# 3. The correlation the three printed S.D.s imply (the divisor cancels) and the one in the data.
r_sds <- (1.70^2 + 1.90^2 - 1.17^2) / (2 * 1.70 * 1.90)
drug1 <- sleep$extra[sleep$group == "1"][order(sleep$ID[sleep$group == "1"])]
drug2 <- sleep$extra[sleep$group == "2"][order(sleep$ID[sleep$group == "2"])]

# 4. Abstract level: the paired t and d_z = t / sqrt(n) that p = 0.003 implies, with the exact CI of d_z
#    (noncentral t inverted: P(T'(9, ncp) <= t) = 0.975 and 0.025).
t_implied <- qt(0.003 / 2, n - 1, lower.tail = FALSE)
ncp_at <- function(target) uniroot(function(ncp) pt(t_implied, n - 1, ncp) - target, c(-10, 20), tol = 1e-13)$root

expected <- data.frame(
  quantity = c("t_printed", "p_printed", "p_min", "p_max", "r_low", "r_high", "r_low_exact", "r_high_exact",
               "r_sds", "r_data", "t_implied", "d_implied", "d_ci_low", "d_ci_high"),
  value = c(t_printed, paired_p(1.58, 1.17), paired_p(1.58 + h, 1.17 - h), paired_p(1.58 - h, 1.17 + h),
            r_low, r_high, r_low_exact, r_high_exact, r_sds, cor(drug1, drug2), t_implied,
            t_implied / sqrt(n), ncp_at(0.975) / sqrt(n), ncp_at(0.025) / sqrt(n))
)
print(expected, digits = 17)
expected$value <- fmt(expected$value)
write.csv(expected, file.path(out_dir, "expected.csv"), row.names = FALSE)
writeLines(R.version.string, file.path(out_dir, "versions.txt"))
