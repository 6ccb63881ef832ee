# Reference values for trialkit's binary-endpoint analyses (docs/binary.md).
#
#   cd tests/reference/binary && R CMD BATCH --no-save --no-restore make_reference.R
#
# Writes the data the tests read (respiratory.csv, synthetic.csv) and the expected_*.csv files.
# Every number is computed here from R's own functions (glm, sandwich::vcovHC, numDeriv::jacobian,
# mantelhaen.test, metafor::rma.mh) or from the published formulas written out below; nothing is
# taken from trialkit. Numbers are written with sprintf("%.17g").

suppressPackageStartupMessages({
  library(geepack)   # respiratory data
  library(sandwich)  # HC0 covariance of the coefficients (Ge et al.'s V, beeca's default)
  library(numDeriv)  # checks the closed-form Ge gradient by numerical differentiation
  library(metafor)   # rma.mh: Mantel-Haenszel OR (RBG variance) and RD (Sato variance), a second implementation
})

RNGkind("Mersenne-Twister", "Inversion", "Rejection")
num <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
write_csv <- function(frame, file) {
  for (j in seq_along(frame)) if (is.numeric(frame[[j]])) frame[[j]] <- num(frame[[j]])
  write.csv(frame, file, row.names = FALSE, quote = FALSE, na = "")
}

# ---------------------------------------------------------------------------------------------
# data

data(respiratory, package = "geepack")
resp <- subset(respiratory, visit == 4)
resp <- data.frame(
  id = resp$id, centre = as.character(resp$center), arm = as.character(resp$treat),
  sex = as.character(resp$sex), age = resp$age, baseline = resp$baseline, outcome = resp$outcome
)
resp <- resp[order(resp$centre, resp$id), ]
write.csv(resp, "respiratory.csv", row.names = FALSE, quote = FALSE)  # data as text, not %.17g

# synthetic: three arms, known conditional log odds ratios
set.seed(20261201)
n <- 9000
syn <- data.frame(
  arm = sample(rep(c("placebo", "low", "high"), each = n / 3)),
  region = sample(c("north", "south", "east", "west", "centre"), n, replace = TRUE, prob = c(.3, .25, .2, .15, .1)),
  baseline = rbinom(n, 1, 0.4),
  x1 = round(rnorm(n, 50, 10), 1),
  x2 = round(rnorm(n), 3)
)
truth <- c(intercept = -2, low = 0.4, high = 0.8, baseline = 1.0, x1 = 0.02, x2 = -0.5,
           south = 0.3, east = -0.2, west = 0.5, centre = 0.1)
eta <- truth["intercept"] + truth["low"] * (syn$arm == "low") + truth["high"] * (syn$arm == "high") +
  truth["baseline"] * syn$baseline + truth["x1"] * syn$x1 + truth["x2"] * syn$x2 +
  truth["south"] * (syn$region == "south") + truth["east"] * (syn$region == "east") +
  truth["west"] * (syn$region == "west") + truth["centre"] * (syn$region == "centre")
syn$outcome <- rbinom(n, 1, plogis(eta))
write.csv(syn, "synthetic.csv", row.names = FALSE, quote = FALSE)
write_csv(data.frame(term = names(truth), value = unname(truth)), "synthetic_truth.csv")

# ---------------------------------------------------------------------------------------------
# the models, on the data read back from the CSV files (the text the tests read)

resp <- read.csv("respiratory.csv", colClasses = c(centre = "character", id = "character"))
syn <- read.csv("synthetic.csv")

cases <- list(
  respiratory = list(
    data = transform(resp, arm = factor(arm, c("P", "A")), sex = factor(sex, c("F", "M")),
                     centre = factor(centre, c("1", "2"))),
    formula = outcome ~ arm + baseline + age + sex + centre,
    names = c("(intercept)", "arm[A]", "baseline", "age", "sex[M]", "centre[2]"),
    stratum = "centre"
  ),
  synthetic = list(
    data = transform(syn, arm = factor(arm, c("placebo", "low", "high")),
                     region = factor(region, c("north", "south", "east", "west", "centre"))),
    formula = outcome ~ arm + baseline + x1 + x2 + region,
    names = c("(intercept)", "arm[low]", "arm[high]", "baseline", "x1", "x2",
              "region[south]", "region[east]", "region[west]", "region[centre]"),
    stratum = "region"
  )
)

z <- qnorm(0.975)
coef_rows <- list(); model_rows <- list(); marg_rows <- list(); cov_rows <- list(); cmh_rows <- list()

for (case in names(cases)) {
  cs <- cases[[case]]
  d <- cs$data
  fit <- glm(cs$formula, family = binomial, data = d)  # glm.control(): epsilon 1e-8, maxit 25
  stopifnot(fit$converged)
  s <- summary(fit)$coefficients
  coef_rows[[case]] <- data.frame(case = case, term = cs$names, estimate = s[, 1], std_error = s[, 2],
                                  statistic = s[, 3], p_value = s[, 4])
  model_rows[[case]] <- data.frame(case = case, deviance = deviance(fit), iterations = fit$iter,
                                   n = nrow(d))

  arms <- levels(d$arm)
  k <- length(arms)
  X_for <- function(a) { da <- d; da$arm <- factor(a, levels = arms); model.matrix(cs$formula, da) }
  Xs <- lapply(arms, X_for)
  b <- coef(fit)
  P <- sapply(Xs, function(Xa) plogis(drop(Xa %*% b)))   # counterfactual predictions, n x k
  colnames(P) <- arms
  risks <- colMeans(P)

  # Ge et al. (2011): delta method with V = HC0 sandwich (beeca's default type). The gradient of
  # r_a = mean(plogis(X_a b)) is mean(p (1 - p) X_a); numDeriv's Richardson extrapolation confirms it
  # (to ~1e-10 absolute, which the cancellation in D V D' turns into ~1e-7 relative: so the closed
  # form is the reference, numDeriv the check)
  D <- t(sapply(Xs, function(Xa) { p <- plogis(drop(Xa %*% b)); colMeans(Xa * (p * (1 - p))) }))
  risk_fn <- function(beta) sapply(Xs, function(Xa) mean(plogis(drop(Xa %*% beta))))
  stopifnot(max(abs(jacobian(risk_fn, b) - D)) < 1e-8 * max(abs(D)))
  V_ge <- D %*% vcovHC(fit, type = "HC0") %*% t(D)

  # Ye et al. (2023): robust variance; diagonal with the RobinCar decomposition (beeca mod = FALSE)
  y <- d$outcome
  pi_a <- as.numeric(table(d$arm)[arms]) / nrow(d)
  V_ye <- matrix(0, k, k)
  for (i in seq_len(k)) {
    in_i <- d$arm == arms[i]
    c_obs <- cov(y[in_i], P[in_i, i])
    V_ye[i, i] <- (var(y[in_i]) - 2 * c_obs + var(P[, i])) / pi_a[i] + 2 * c_obs - var(P[, i])
    for (j in seq_len(k)) if (j != i) {
      in_j <- d$arm == arms[j]
      V_ye[i, j] <- cov(y[in_i], P[in_i, j]) + cov(y[in_j], P[in_j, i]) - cov(P[, i], P[, j])
    }
  }
  V_ye <- V_ye / nrow(d)

  for (variance in c("ye", "ge")) {
    V <- if (variance == "ye") V_ye else V_ge
    for (i in seq_len(k)) for (j in seq_len(k))
      cov_rows[[length(cov_rows) + 1]] <- data.frame(case = case, variance = variance, row = arms[i],
                                                     column = arms[j], value = V[i, j])
    for (a in 2:k) {
      r1 <- risks[a]; r0 <- risks[1]
      Vp <- V[c(a, 1), c(a, 1)]
      g_rd <- c(1, -1); g_rr <- c(1 / r1, -1 / r0); g_or <- c(1 / (r1 * (1 - r1)), -1 / (r0 * (1 - r0)))
      se_rd <- sqrt(drop(t(g_rd) %*% Vp %*% g_rd))
      se_rr <- sqrt(drop(t(g_rr) %*% Vp %*% g_rr))
      se_or <- sqrt(drop(t(g_or) %*% Vp %*% g_or))
      rd <- r1 - r0; lrr <- log(r1 / r0); lor <- qlogis(r1) - qlogis(r0)
      contrast <- paste(arms[a], "-", arms[1])
      marg_rows[[length(marg_rows) + 1]] <- data.frame(
        case = case, variance = variance, analysis = c("standardised_rd", "standardised_rr", "standardised_or"),
        contrast = contrast,
        estimate = c(rd, exp(lrr), exp(lor)),
        std_error = c(se_rd, se_rr, se_or),
        ci_low = c(rd - z * se_rd, exp(lrr - z * se_rr), exp(lor - z * se_or)),
        ci_high = c(rd + z * se_rd, exp(lrr + z * se_rr), exp(lor + z * se_or)),
        statistic = c(rd / se_rd, lrr / se_rr, lor / se_or),
        p_value = 2 * pnorm(-abs(c(rd / se_rd, lrr / se_rr, lor / se_or))),
        risk_treatment = r1, risk_control = r0
      )
    }
  }

  # Cochran-Mantel-Haenszel per arm vs control, stratified by the case's stratum
  for (a in 2:k) {
    sub <- d[d$arm %in% arms[c(1, a)], ]
    tab <- table(factor(sub$arm, levels = arms[c(a, 1)]), factor(sub$outcome, levels = c(1, 0)),
                 sub[[cs$stratum]])
    mh <- mantelhaen.test(tab)  # defaults: correct = TRUE, exact = FALSE, conf.level = 0.95
    se_log_or <- log(mh$conf.int[2] / mh$estimate) / z
    ai <- tab[1, 1, ]; bi <- tab[1, 2, ]; ci <- tab[2, 1, ]; di <- tab[2, 2, ]
    n1 <- ai + bi; n0 <- ci + di; N <- n1 + n0
    # MH risk difference, Sato, Greenland and Robins (1989) variance, written out
    w <- n1 * n0 / N
    rd <- sum(ai * n0 / N - ci * n1 / N) / sum(w)
    Pk <- (n1^2 * ci - n0^2 * ai + n1 * n0 * (n0 - n1) / 2) / N^2
    Qk <- (ai * (n0 - ci) + ci * (n1 - ai)) / (2 * N)
    se_rd <- sqrt((rd * sum(Pk) + sum(Qk)) / sum(w)^2)
    # the same two quantities from metafor's implementation
    m_or <- rma.mh(ai = ai, bi = bi, ci = ci, di = di, measure = "OR")
    m_rd <- rma.mh(ai = ai, bi = bi, ci = ci, di = di, measure = "RD")
    stopifnot(abs(m_rd$beta - rd) < 1e-12, abs(m_rd$se / se_rd - 1) < 1e-10,
              abs(exp(m_or$beta) / mh$estimate - 1) < 1e-10, abs(m_or$se / se_log_or - 1) < 1e-10,
              abs(m_or$CMH / mh$statistic - 1) < 1e-10)
    contrast <- paste(arms[a], "-", arms[1])
    cmh_rows[[length(cmh_rows) + 1]] <- data.frame(
      case = case, analysis = c("cmh", "mh_risk_difference"), contrast = contrast,
      estimate = c(mh$estimate, rd), std_error = c(se_log_or, se_rd),
      ci_low = c(mh$conf.int[1], rd - z * se_rd), ci_high = c(mh$conf.int[2], rd + z * se_rd),
      df = c(mh$parameter, NA), statistic = c(mh$statistic, rd / se_rd),
      p_value = c(mh$p.value, 2 * pnorm(-abs(rd / se_rd))),
      n_treatment = sum(n1), n_control = sum(n0)
    )
    print(mh)
  }
  print(summary(fit))
}

write_csv(do.call(rbind, coef_rows), "expected_glm.csv")
write_csv(do.call(rbind, model_rows), "expected_model.csv")
write_csv(do.call(rbind, marg_rows), "expected_standardised.csv")
write_csv(do.call(rbind, cov_rows), "expected_risk_covariance.csv")
write_csv(do.call(rbind, cmh_rows), "expected_cmh.csv")

# ---------------------------------------------------------------------------------------------
# small cases for the continuity-correction rule and single strata

# |DELTA| < 1/2: R drops the correction
tab <- array(c(3, 2, 2, 3, 4, 3, 3, 4), dim = c(2, 2, 2))
small <- mantelhaen.test(tab)
print(small)
edge <- data.frame(case = "small", delta = sum(tab[1, 1, ] - apply(tab, c(1, 3), sum)[1, ] *
                                                 apply(tab, c(2, 3), sum)[1, ] / apply(tab, 3, sum)),
                   statistic = small$statistic, p_value = small$p.value, estimate = small$estimate,
                   ci_low = small$conf.int[1], ci_high = small$conf.int[2])
write_csv(edge, "expected_cmh_small.csv")
writeLines(c(R.version.string, paste("geepack", packageVersion("geepack")),
             paste("sandwich", packageVersion("sandwich")), paste("numDeriv", packageVersion("numDeriv")),
             paste("metafor", packageVersion("metafor"))), "versions.txt")
