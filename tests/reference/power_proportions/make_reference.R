# Reference values for the "proportions" power family (trialkit/power/_binary.py,
# docs/power-binary-counts.md).
#
# Run from the repository root:
#   R CMD BATCH --no-save --no-restore tests/reference/power_proportions/make_reference.R tests/reference/power_proportions/make_reference.Rout
#
# Writes, beside this script:
#   expected.csv    one row per case: the power at given (n_control, n_arm), with the R function
#                   that computed it
#   expected_n.csv  one row per case: the smallest n per arm (equal groups) whose power reaches the
#                   target, found by an integer search on the R power function, and R's own
#                   (continuous) solution where the R function solves for n
#   versions.txt    R and pwr versions
# Numbers are written with sprintf("%.17g") (round-trip exact doubles); NA is an empty field.
#
# Sources of each method's power:
#   normal   stats::power.prop.test (equal n, strict FALSE and TRUE); unequal n by the pooled z
#            test's formula written out below (it reduces to power.prop.test at equal n, checked)
#   arcsine  pwr::pwr.2p.test (equal n) and pwr::pwr.2p2n.test (unequal n), Cohen's h = ES.h
#   exact    Fisher's exact test: every outcome (x_control, x_arm) enumerated, stats::fisher.test
#            run on each 2 x 2 table, the binomial probabilities of the rejected tables summed

suppressPackageStartupMessages(library(pwr))
here <- "tests/reference/power_proportions"
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))

# a one-sided test is in the direction of the effect (arm above or below control)
side_name <- function(sided) if (sided == 2) "two.sided" else "one.sided"
pwr_side <- function(sided, p_control, p_arm) {
  if (sided == 2) "two.sided" else if (p_arm > p_control) "greater" else "less"
}

# the pooled-variance z test with unequal groups (Fleiss, Levin & Paik 2003, section 4.2)
normal_power <- function(n0, n1, p0, p1, alpha, sided, strict) {
  pbar <- (n0 * p0 + n1 * p1) / (n0 + n1)
  se0 <- sqrt(pbar * (1 - pbar) * (1 / n0 + 1 / n1))
  se1 <- sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1)
  z <- qnorm(alpha / sided, lower.tail = FALSE)
  d <- abs(p1 - p0)
  out <- pnorm((d - z * se0) / se1)
  if (strict && sided == 2) out <- out + pnorm((-d - z * se0) / se1)
  out
}

fisher_power <- function(n0, n1, p0, p1, alpha, sided) {
  alt <- if (sided == 2) "two.sided" else if (p1 > p0) "greater" else "less"
  total <- 0
  for (x1 in 0:n1) for (x0 in 0:n0) {
    # rows arm, control; columns success, failure: the odds ratio exceeds 1 when the arm is higher
    tab <- matrix(c(x1, n1 - x1, x0, n0 - x0), 2, byrow = TRUE)
    if (fisher.test(tab, alternative = alt)$p.value <= alpha)
      total <- total + dbinom(x1, n1, p1) * dbinom(x0, n0, p0)
  }
  total
}

rows <- list()
add <- function(case, method, r_function, n0, n1, p0, p1, alpha, sided, strict, power) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, method = method, r_function = r_function, n_control = n0, n_arm = n1,
    p_control = fmt(p0), p_arm = fmt(p1), alpha = fmt(alpha), sided = sided,
    strict = if (strict) "true" else "false", power = fmt(power))
}

# ---- normal: power.prop.test (equal n) --------------------------------------------------------
equal <- list(c(50, 0.5, 0.75), c(20, 0.1, 0.3), c(120, 0.6, 0.45), c(300, 0.05, 0.1), c(13, 0.2, 0.7),
              c(85, 0.35, 0.2))
for (e in equal) for (alpha in c(0.05, 0.01)) for (sided in c(2, 1)) for (strict in c(FALSE, TRUE)) {
  if (strict && sided == 1) next
  res <- power.prop.test(n = e[1], p1 = e[2], p2 = e[3], sig.level = alpha,
                         alternative = side_name(sided), strict = strict)
  print(res)
  stopifnot(abs(res$power - normal_power(e[1], e[1], e[2], e[3], alpha, sided, strict)) < 1e-14)
  add(sprintf("prop_n%d_%g_%g_a%g_s%d%s", e[1], e[2], e[3], alpha, sided, if (strict) "_strict" else ""),
      "normal", "power.prop.test", e[1], e[1], e[2], e[3], alpha, sided, strict, res$power)
}
# ---- normal: unequal n (the formula above) ----------------------------------------------------
unequal <- list(c(40, 80, 0.3, 0.5), c(100, 50, 0.2, 0.1), c(25, 75, 0.5, 0.8), c(200, 133, 0.12, 0.2))
for (e in unequal) for (sided in c(2, 1)) for (strict in c(FALSE, TRUE)) {
  if (strict && sided == 1) next
  p <- normal_power(e[1], e[2], e[3], e[4], 0.05, sided, strict)
  cat(sprintf("pooled z: n = (%d, %d), p = (%g, %g), sided %d, strict %s: power %.17g\n",
              e[1], e[2], e[3], e[4], sided, strict, p))
  add(sprintf("pooledz_n%d_%d_%g_%g_s%d%s", e[1], e[2], e[3], e[4], sided, if (strict) "_strict" else ""),
      "normal", "formula", e[1], e[2], e[3], e[4], 0.05, sided, strict, p)
}

# ---- arcsine: pwr.2p.test (equal n), pwr.2p2n.test (unequal n) ---------------------------------
for (e in equal) for (alpha in c(0.05, 0.01)) for (sided in c(2, 1)) {
  h <- ES.h(e[3], e[2])  # arm minus control
  res <- pwr.2p.test(h = h, n = e[1], sig.level = alpha, alternative = pwr_side(sided, e[2], e[3]))
  print(res)
  add(sprintf("pwr2p_n%d_%g_%g_a%g_s%d", e[1], e[2], e[3], alpha, sided),
      "arcsine", "pwr.2p.test", e[1], e[1], e[2], e[3], alpha, sided, FALSE, res$power)
}
for (e in unequal) for (sided in c(2, 1)) {
  h <- ES.h(e[4], e[3])
  res <- pwr.2p2n.test(h = h, n1 = e[1], n2 = e[2], sig.level = 0.05,
                       alternative = pwr_side(sided, e[3], e[4]))
  print(res)
  add(sprintf("pwr2p2n_n%d_%d_%g_%g_s%d", e[1], e[2], e[3], e[4], sided),
      "arcsine", "pwr.2p2n.test", e[1], e[2], e[3], e[4], 0.05, sided, FALSE, res$power)
}

# ---- exact: Fisher's exact test by enumeration -------------------------------------------------
exact <- list(c(10, 10, 0.1, 0.6), c(15, 20, 0.2, 0.6), c(30, 25, 0.5, 0.15), c(40, 40, 0.3, 0.55),
              c(12, 30, 0.05, 0.35), c(60, 50, 0.4, 0.6), c(8, 8, 0.5, 0.5 + 1e-9))
for (e in exact) for (alpha in c(0.05, 0.1)) for (sided in c(2, 1)) {
  p <- fisher_power(e[1], e[2], e[3], e[4], alpha, sided)
  cat(sprintf("fisher: n = (%d, %d), p = (%.10g, %.10g), alpha %g, sided %d: power %.17g\n",
              e[1], e[2], e[3], e[4], alpha, sided, p))
  add(sprintf("fisher_n%d_%d_%g_%g_a%g_s%d", e[1], e[2], e[3], e[4], alpha, sided),
      "exact", "fisher.test", e[1], e[2], e[3], e[4], alpha, sided, FALSE, p)
}
write.csv(do.call(rbind, rows), file.path(here, "expected.csv"), row.names = FALSE, quote = FALSE)

# ---- sample sizes: the smallest n per arm (equal groups) reaching the target power -------------
smallest_n <- function(power_at, target) {
  n <- 2
  while (power_at(n) < target) n <- n + 1
  n
}
nrows <- list()
targets <- list(c(0.5, 0.75, 0.8, 0.05, 2), c(0.1, 0.3, 0.9, 0.05, 2), c(0.6, 0.45, 0.8, 0.05, 1),
                c(0.05, 0.1, 0.8, 0.05, 2), c(0.2, 0.7, 0.9, 0.01, 2), c(0.35, 0.2, 0.85, 0.025, 1))
for (e in targets) {
  p0 <- e[1]; p1 <- e[2]; target <- e[3]; alpha <- e[4]; sided <- e[5]
  res <- power.prop.test(p1 = p0, p2 = p1, power = target, sig.level = alpha, alternative = side_name(sided))
  print(res)
  n <- smallest_n(function(n) power.prop.test(n = n, p1 = p0, p2 = p1, sig.level = alpha,
                                              alternative = side_name(sided))$power, target)
  stopifnot(n == ceiling(res$n))
  nrows[[length(nrows) + 1]] <- data.frame(
    case = sprintf("prop_%g_%g_pw%g_a%g_s%d", p0, p1, target, alpha, sided), method = "normal",
    r_function = "power.prop.test", p_control = fmt(p0), p_arm = fmt(p1), alpha = fmt(alpha),
    sided = sided, target = fmt(target), n_per_arm = n, r_n = fmt(res$n),
    power_at_n = fmt(power.prop.test(n = n, p1 = p0, p2 = p1, sig.level = alpha,
                                     alternative = side_name(sided))$power))
  h <- ES.h(p1, p0)
  res <- pwr.2p.test(h = h, power = target, sig.level = alpha, alternative = pwr_side(sided, p0, p1))
  print(res)
  power_at <- function(n) pwr.2p.test(h = h, n = n, sig.level = alpha, alternative = pwr_side(sided, p0, p1))$power
  n <- smallest_n(power_at, target)
  stopifnot(n == ceiling(res$n))
  nrows[[length(nrows) + 1]] <- data.frame(
    case = sprintf("pwr2p_%g_%g_pw%g_a%g_s%d", p0, p1, target, alpha, sided), method = "arcsine",
    r_function = "pwr.2p.test", p_control = fmt(p0), p_arm = fmt(p1), alpha = fmt(alpha),
    sided = sided, target = fmt(target), n_per_arm = n, r_n = fmt(res$n), power_at_n = fmt(power_at(n)))
}
write.csv(do.call(rbind, nrows), file.path(here, "expected_n.csv"), row.names = FALSE, quote = FALSE)

writeLines(c(R.version.string, paste("pwr", as.character(packageVersion("pwr")))),
           file.path(here, "versions.txt"))
