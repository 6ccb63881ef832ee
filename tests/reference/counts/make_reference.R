# Reference values for trialkit's count-endpoint models (docs/counts.md).
#
# Run from the repository root:
#   R CMD BATCH --no-save --no-restore tests/reference/counts/make_reference.R tests/reference/counts/make_reference.Rout
#
# Writes, beside this script:
#   epil.csv        MASS::epil, one row per subject: the four two-week seizure counts y1..y4, the
#                   8-week baseline count, age, arm
#   synthetic.csv   three arms, variable exposure, a numeric covariate, a five-level factor; simulated
#                   from a negative-binomial model with known rate ratios (seeded)
#   expected.csv    per case and model: one row per model term (coefficient, SE, statistic, p) and per
#                   non-control arm (rate ratio, SE of the log ratio, CI, statistic, p, df)
#   expected_fit.csv  per case and model: theta and its SE, 2 log L, dispersion, residual df, iterations
#   expected_rate.csv per case and arm: events, exposure, rate and poisson.test's exact interval
# Numbers are written with sprintf("%.17g") (round-trip exact doubles); NA is an empty field.

suppressPackageStartupMessages({
  library(MASS)
  library(sandwich)
})
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
here <- "tests/reference/counts"
alpha <- 0.05
z <- qnorm(1 - alpha / 2)
fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))

# ---- data -----------------------------------------------------------------------------------
data(epil, package = "MASS")
wide <- reshape(epil[, c("subject", "period", "y", "trt", "base", "age")],
                idvar = c("subject", "trt", "base", "age"), timevar = "period", direction = "wide",
                sep = "")
wide <- wide[order(wide$subject), ]
epil_csv <- data.frame(subject = wide$subject, arm = as.character(wide$trt), base = wide$base,
                       age = wide$age, y1 = wide$y1, y2 = wide$y2, y3 = wide$y3, y4 = wide$y4)
write.csv(epil_csv, file.path(here, "epil.csv"), row.names = FALSE, quote = FALSE)

set.seed(20261201)
n <- 3000
arm <- factor(sample(rep(c("placebo", "low", "high"), each = n / 3)), levels = c("placebo", "low", "high"))
region <- factor(sample(c("north", "east", "south", "west", "centre"), n, replace = TRUE,
                        prob = c(0.3, 0.25, 0.2, 0.15, 0.1)),
                 levels = c("north", "east", "south", "west", "centre"))
age <- round(rnorm(n, 45, 12), 1)
exposure <- round(runif(n, 0.25, 2), 3)           # years at risk (variable follow-up)
base <- rnbinom(n, size = 3, mu = 6)              # baseline count over one year
lbase <- log((base + 1) / 1)                      # log1p-style covariate (no zero problem)
true_rr <- c(placebo = 1, low = 0.8, high = 0.6)
true_theta <- 2
region_effect <- c(north = 0, east = 0.1, south = -0.15, west = 0.2, centre = 0.05)
eta <- log(2.5) + log(true_rr[as.character(arm)]) + 0.5 * (lbase - mean(lbase)) + 0.01 * (age - 45) +
  region_effect[as.character(region)] + log(exposure)
y <- rnbinom(n, size = true_theta, mu = exp(eta))
synthetic <- data.frame(subject = sprintf("S%04d", seq_len(n)), arm = as.character(arm), y = y,
                        exposure = exposure, lbase = lbase, age = age, region = as.character(region))
write.csv(synthetic, file.path(here, "synthetic.csv"), row.names = FALSE, quote = FALSE)

# ---- cases ----------------------------------------------------------------------------------
# read the CSVs back, as the Python tests do
e <- read.csv(file.path(here, "epil.csv"))
e$arm <- factor(e$arm, levels = c("placebo", "progabide"))
e$log_base <- log(e$base / 8)                     # baseline seizures per week, log
s <- read.csv(file.path(here, "synthetic.csv"))
s$arm <- factor(s$arm, levels = c("placebo", "low", "high"))
s$region <- factor(s$region, levels = c("north", "east", "south", "west", "centre"))

cases <- list(
  epil_total = list(data = transform(e, y = y1 + y2 + y3 + y4, exposure = 8),
                    formula = y ~ arm + log_base + age + offset(log(exposure)),
                    terms = c("(intercept)", "arm[progabide]", "log_base", "age")),
  epil_period4 = list(data = transform(e, y = y4, exposure = 2),
                      formula = y ~ arm + log_base + age + offset(log(exposure)),
                      terms = c("(intercept)", "arm[progabide]", "log_base", "age")),
  synthetic = list(data = s,
                   formula = y ~ arm + lbase + age + region + offset(log(exposure)),
                   terms = c("(intercept)", "arm[low]", "arm[high]", "lbase", "age",
                             "region[east]", "region[south]", "region[west]", "region[centre]"))
)

rows <- list(); fits <- list(); rates <- list()
add_rows <- function(case, model, terms, est, se, stat, p, df, qcrit, arms) {
  rows[[length(rows) + 1]] <<- data.frame(case = case, model = model, kind = "coefficient", name = terms,
                                         estimate = est, std_error = se, ci_low = est - qcrit * se,
                                         ci_high = est + qcrit * se, df = df, statistic = stat, p_value = p)
  k <- 1 + seq_along(arms[-1])
  rows[[length(rows) + 1]] <<- data.frame(case = case, model = model, kind = "rate_ratio",
                                         name = paste(arms[-1], "-", arms[1]),
                                         estimate = exp(est[k]), std_error = se[k],
                                         ci_low = exp(est[k] - qcrit * se[k]), ci_high = exp(est[k] + qcrit * se[k]),
                                         df = df, statistic = stat[k], p_value = p[k])
}
add_fit <- function(case, model, quantity, value) {
  fits[[length(fits) + 1]] <<- data.frame(case = case, model = model, quantity = quantity, value = value)
}

for (case in names(cases)) {
  cs <- cases[[case]]; d <- cs$data; arms <- levels(d$arm)
  cat("\n==== ", case, " ====\n", sep = "")

  # negative binomial (NB2), ML theta: MASS::glm.nb with its defaults
  nb <- glm.nb(cs$formula, data = d)
  print(summary(nb))
  cf <- coef(summary(nb))
  print(confint.default(nb))
  add_rows(case, "negative_binomial", cs$terms, cf[, 1], cf[, 2], cf[, 3], cf[, 4], NA, z, arms)
  add_fit(case, "negative_binomial", "theta", nb$theta)
  add_fit(case, "negative_binomial", "theta_std_error", nb$SE.theta)
  add_fit(case, "negative_binomial", "two_log_likelihood", nb$twologlik)
  add_fit(case, "negative_binomial", "deviance", nb$deviance)
  add_fit(case, "negative_binomial", "iterations", nb$iter)
  # the same model iterated to a much tighter tolerance: how far the default stops from the ML
  nb_tight <- glm.nb(cs$formula, data = d, control = glm.control(epsilon = 1e-13, maxit = 100))
  add_fit(case, "negative_binomial_tight", "theta", nb_tight$theta)
  cat("theta default / tight:", sprintf("%.15g", nb$theta), sprintf("%.15g", nb_tight$theta), "\n")
  cat("max relative coefficient difference default vs tight:",
      max(abs(coef(nb) / coef(nb_tight) - 1)), "\n")

  # Poisson with the sandwich (HC0) covariance
  po <- glm(cs$formula, family = poisson, data = d)
  print(summary(po))
  V <- sandwich(po)
  print(V)
  se <- sqrt(diag(V)); b <- coef(po)
  add_rows(case, "poisson", cs$terms, b, se, b / se, 2 * pnorm(-abs(b / se)), NA, z, arms)
  add_fit(case, "poisson", "deviance", po$deviance)
  add_fit(case, "poisson", "iterations", po$iter)

  # quasi-Poisson: dispersion from summary.glm, t on the residual df (CI with the same t quantile)
  qp <- glm(cs$formula, family = quasipoisson, data = d)
  sq <- summary(qp)
  print(sq)
  cf <- coef(sq)
  add_rows(case, "quasipoisson", cs$terms, cf[, 1], cf[, 2], cf[, 3], cf[, 4], qp$df.residual,
           qt(1 - alpha / 2, qp$df.residual), arms)
  add_fit(case, "quasipoisson", "dispersion", sq$dispersion)
  add_fit(case, "quasipoisson", "residual_df", qp$df.residual)

  # events per unit of exposure by arm, exact Poisson interval
  for (a in arms) {
    x <- sum(d$y[d$arm == a]); tt <- sum(d$exposure[d$arm == a])
    pt <- poisson.test(x, tt, conf.level = 1 - alpha)
    print(pt)
    rates[[length(rates) + 1]] <- data.frame(case = case, arm = a, n = sum(d$arm == a), events = x,
                                             exposure = tt, rate = unname(pt$estimate),
                                             ci_low = pt$conf.int[1], ci_high = pt$conf.int[2])
  }
}

# ---- no overdispersion: what glm.nb does when theta's ML is infinite ----------------------------
set.seed(7)
under <- data.frame(arm = factor(rep(c("c", "t"), each = 40)), x = rnorm(80))
under$y <- rpois(80, exp(1 + 0.2 * (under$arm == "t")))
po_under <- glm(y ~ arm + x, family = poisson, data = under)
mu <- fitted(po_under)
cat("\nsum((y - mu)^2 - y) at the Poisson fit:", sum((under$y - mu)^2 - under$y), "\n")
nb_under <- withCallingHandlers(glm.nb(y ~ arm + x, data = under),
                                warning = function(w) { cat("warning:", conditionMessage(w), "\n");
                                                        invokeRestart("muffleWarning") })
cat("glm.nb theta:", nb_under$theta, " th.warn:", nb_under$th.warn, "\n")
write.csv(under, file.path(here, "no_overdispersion.csv"), row.names = FALSE, quote = FALSE)

# ---- write ------------------------------------------------------------------------------------
out <- do.call(rbind, rows)
for (col in c("estimate", "std_error", "ci_low", "ci_high", "df", "statistic", "p_value")) out[[col]] <- fmt(out[[col]])
write.csv(out, file.path(here, "expected.csv"), row.names = FALSE, quote = FALSE)
out <- do.call(rbind, fits); out$value <- fmt(out$value)
write.csv(out, file.path(here, "expected_fit.csv"), row.names = FALSE, quote = FALSE)
out <- do.call(rbind, rates)
for (col in c("exposure", "rate", "ci_low", "ci_high")) out[[col]] <- fmt(out[[col]])
write.csv(out, file.path(here, "expected_rate.csv"), row.names = FALSE, quote = FALSE)
writeLines(c(R.version.string, paste("MASS", packageVersion("MASS")), paste("sandwich", packageVersion("sandwich"))),
           file.path(here, "versions.txt"))
sessionInfo()
