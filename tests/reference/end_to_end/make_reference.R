# End-to-end references for trialkit.analyze on two real trials that R packages ship, with binary and
# count endpoints. Writes each trial as trialkit reads it (trial.csv; study.toml is kept by hand beside
# it) and the expected rows of the analyses R computes with its own functions.
#
#   respiratory/  geepack::respiratory: respiratory illness, active (A) vs placebo (P), 2 centres,
#                 status "good"/"poor" at baseline and 4 visits (Koch et al. 1990; Stokes, Davis & Koch).
#   epilepsy/     MASS::epil: progabide vs placebo, seizure counts over an 8-week baseline and four
#                 2-week periods (Leppik et al. 1987; Thall & Vail 1990).
#
# Every model runs with R's default convergence settings, which trialkit repeats step by step.
# Run from the repository root:  R CMD BATCH --no-save --no-restore tests/reference/end_to_end/make_reference.R
suppressPackageStartupMessages({library(geepack); library(MASS); library(sandwich)})
out <- "tests/reference/end_to_end"
wald <- function(est, se, z = qnorm(0.975)) c(est - z * se, est + z * se)
row <- function(endpoint, visit, analysis, contrast, estimate, std_error = NA, ci = c(NA, NA), df = NA,
                statistic = NA, p = NA, n_t = NA, n_c = NA)
  data.frame(endpoint, visit, analysis, contrast, estimate, std_error, ci_low = ci[1], ci_high = ci[2], df,
             statistic, p_value = p, n_treatment = n_t, n_control = n_c)
wilson <- function(x, n) prop.test(x, n, correct = FALSE)$conf.int[1:2]

## respiratory ---------------------------------------------------------------------------------------------
data(respiratory)
r <- respiratory
r$subject <- sprintf("C%d-%02d", r$center, r$id)
wide <- reshape(r[, c("subject", "center", "treat", "sex", "age", "visit", "outcome")], idvar = "subject",
                timevar = "visit", direction = "wide", v.names = "outcome")
base <- unique(r[, c("subject", "baseline")])
wide <- merge(wide, base, by = "subject", sort = FALSE)
wide <- wide[order(wide$subject), ]
status <- function(x) ifelse(x == 1, "good", "poor")
csv <- data.frame(subject = wide$subject, arm = wide$treat, centre = paste0("centre ", wide$center),
                  sex = wide$sex, age = wide$age, status_baseline = status(wide$baseline))
for (v in 1:4) csv[[paste0("status_visit", v)]] <- status(wide[[paste0("outcome.", v)]])
dir.create(file.path(out, "respiratory"), showWarnings = FALSE)
write.csv(csv, file.path(out, "respiratory", "trial.csv"), row.names = FALSE, quote = FALSE)

d <- data.frame(arm = factor(csv$arm, levels = c("P", "A")), centre = factor(csv$centre), sex = factor(csv$sex),
                age = csv$age, baseline = as.numeric(csv$status_baseline == "good"))
res <- list()
for (v in 1:4) {
  visit <- paste0("visit", v)
  d$y <- as.numeric(csv[[paste0("status_", visit)]] == "good")
  fit <- glm(y ~ arm + baseline + age + sex + centre, family = binomial, data = d)
  b <- coef(summary(fit))["armA", ]
  nt <- sum(d$arm == "A"); nc <- sum(d$arm == "P")
  res[[length(res) + 1]] <- row("status", visit, "logistic", "A - P", exp(b[1]), b[2], exp(wald(b[1], b[2])),
                                statistic = b[3], p = b[4], n_t = nt, n_c = nc)
  xa <- sum(d$y[d$arm == "A"]); xp <- sum(d$y[d$arm == "P"])
  res[[length(res) + 1]] <- row("status", visit, "proportion", "A", xa / nt, ci = wilson(xa, nt), n_t = nt)
  res[[length(res) + 1]] <- row("status", visit, "proportion", "P", xp / nc, ci = wilson(xp, nc), n_t = nc)
  fisher <- fisher.test(matrix(c(xa, nt - xa, xp, nc - xp), 2, byrow = TRUE))$p.value
  res[[length(res) + 1]] <- row("status", visit, "risk_difference", "A - P", xa / nt - xp / nc, p = fisher,
                                n_t = nt, n_c = nc)
  # CMH: 2 x 2 x centre, treated arm first so that the common OR is treated vs control
  tab <- table(factor(d$arm, levels = c("A", "P")), factor(d$y, levels = c(1, 0)), d$centre)
  m <- mantelhaen.test(tab)
  res[[length(res) + 1]] <- row("status", visit, "cmh", "A - P", unname(m$estimate), ci = m$conf.int[1:2],
                                df = 1, statistic = unname(m$statistic), p = m$p.value, n_t = nt, n_c = nc)
}
write.csv(do.call(rbind, res), file.path(out, "respiratory", "expected.csv"), row.names = FALSE)

## epilepsy ------------------------------------------------------------------------------------------------
e <- epil
wide <- reshape(e[, c("subject", "trt", "base", "age", "period", "y")], idvar = "subject", timevar = "period",
                direction = "wide", v.names = "y")
wide <- wide[order(wide$subject), ]
csv <- data.frame(subject = sprintf("S%02d", wide$subject), arm = wide$trt, age = wide$age,
                  seizures_baseline = wide$base)
for (p in 1:4) csv[[paste0("seizures_period", p)]] <- wide[[paste0("y.", p)]]
dir.create(file.path(out, "epilepsy"), showWarnings = FALSE)
write.csv(csv, file.path(out, "epilepsy", "trial.csv"), row.names = FALSE, quote = FALSE)

d <- data.frame(arm = factor(csv$arm, levels = c("placebo", "progabide")), age = csv$age,
                lbase = log(csv$seizures_baseline / 8))
res <- list()
for (p in 1:4) {
  visit <- paste0("period", p)
  d$y <- csv[[paste0("seizures_", visit)]]
  nt <- sum(d$arm == "progabide"); nc <- sum(d$arm == "placebo")
  nb <- glm.nb(y ~ arm + lbase + age + offset(log(rep(2, nrow(d)))), data = d)
  b <- coef(summary(nb))["armprogabide", ]
  res[[length(res) + 1]] <- row("seizures", visit, "negative_binomial", "progabide - placebo", exp(b[1]), b[2],
                                exp(wald(b[1], b[2])), statistic = b[3], p = b[4], n_t = nt, n_c = nc)
  po <- glm(y ~ arm + lbase + age + offset(log(rep(2, nrow(d)))), family = poisson, data = d)
  se <- sqrt(sandwich(po)["armprogabide", "armprogabide"]); est <- coef(po)["armprogabide"]
  res[[length(res) + 1]] <- row("seizures", visit, "poisson", "progabide - placebo", exp(est), se,
                                exp(wald(est, se)), statistic = est / se, p = 2 * pnorm(-abs(est / se)),
                                n_t = nt, n_c = nc)
  qp <- glm(y ~ arm + lbase + age + offset(log(rep(2, nrow(d)))), family = quasipoisson, data = d)
  b <- coef(summary(qp))["armprogabide", ]
  res[[length(res) + 1]] <- row("seizures", visit, "quasipoisson", "progabide - placebo", exp(b[1]), b[2],
                                ci = c(NA, NA), df = qp$df.residual, statistic = b[3], p = b[4], n_t = nt, n_c = nc)
  for (a in c("placebo", "progabide")) {
    x <- sum(d$y[d$arm == a]); n <- sum(d$arm == a)
    res[[length(res) + 1]] <- row("seizures", visit, "rate", a, x / (2 * n), ci = poisson.test(x, 2 * n)$conf.int[1:2],
                                  n_t = n)
  }
  w <- wilcox.test(d$y[d$arm == "progabide"] / 2, d$y[d$arm == "placebo"] / 2, conf.int = TRUE, exact = FALSE)
  res[[length(res) + 1]] <- row("seizures", visit, "mann_whitney_followup", "progabide - placebo", unname(w$estimate),
                                ci = w$conf.int[1:2], statistic = unname(w$statistic), p = w$p.value, n_t = nt, n_c = nc)
  # 50 % responders: rate change of at least -50 % from the baseline rate
  pct <- 100 * (d$y / 2 - exp(d$lbase)) / exp(d$lbase)
  xr <- sum(pct[d$arm == "progabide"] <= -50); xc <- sum(pct[d$arm == "placebo"] <= -50)
  res[[length(res) + 1]] <- row("seizures", visit, "responder_rate", "progabide", xr / nt, ci = wilson(xr, nt), n_t = nt)
  res[[length(res) + 1]] <- row("seizures", visit, "responder_rate", "placebo", xc / nc, ci = wilson(xc, nc), n_t = nc)
  fisher <- fisher.test(matrix(c(xr, nt - xr, xc, nc - xc), 2, byrow = TRUE))$p.value
  res[[length(res) + 1]] <- row("seizures", visit, "responder_rd", "progabide - placebo", xr / nt - xc / nc,
                                p = fisher, n_t = nt, n_c = nc)
}
write.csv(do.call(rbind, res), file.path(out, "epilepsy", "expected.csv"), row.names = FALSE)
sessionInfo()

## three_arm_stratified --------------------------------------------------------------------------------------
# The synthetic three-arm trial of tests/reference/analyses/three_arm with region as the stratum: the ANCOVA's
# Dunnett-adjusted p (two comparisons with placebo; the multivariate t box probability summed over its four
# corners, each a TVPACK orthant probability, exact for integer df), Holm over the secondary endpoints' Dunnett
# p per contrast, and van Elteren's z of change within region (weights 1 / (n + 1), mid-ranks, tie-corrected).
suppressPackageStartupMessages(library(mvtnorm))
tr <- read.csv("tests/reference/analyses/three_arm/trial.csv", colClasses = "character")
tr$arm <- factor(tr$arm, levels = c("placebo", "low", "high"))
num <- function(x) as.numeric(x)
two_sided_box <- function(c, corr, df) {  # P(|T_1| < c, |T_2| < c)
  corners <- expand.grid(c(-1, 1), c(-1, 1))
  sum(apply(corners, 1, function(s) prod(s) * pmvt(upper = s * c, corr = corr, df = df,
                                                    algorithm = TVPACK(abseps = 1e-14))))
}
stratum_z <- function(x, y, sx, sy) {
  num_ <- 0; v <- 0
  for (s in union(sx, sy)) {
    a <- x[sx == s]; b <- y[sy == s]; m <- length(a); l <- length(b); n <- m + l
    r <- rank(c(a, b)); t <- table(c(a, b))
    num_ <- num_ + (sum(r[seq_len(m)]) - m * (n + 1) / 2) / (n + 1)
    v <- v + m * l / 12 * (n + 1 - sum(t^3 - t) / (n * (n - 1))) / (n + 1)^2
  }
  num_ / sqrt(v)
}
res <- list(); dunnett <- list()
for (ep in c("score", "biomarker", "walk")) {
  log_scale <- ep == "biomarker"
  f <- if (log_scale) log else identity
  d <- data.frame(arm = tr$arm, y = f(num(tr[[paste0(ep, "_week8")]])), baseline = f(num(tr[[paste0(ep, "_baseline")]])),
                  age = num(tr$age), sex = factor(tr$sex), region = factor(tr$region))
  d <- d[complete.cases(d), ]
  fit <- lm(y ~ arm + baseline + age + sex + region, data = d)
  b <- coef(summary(fit))[c("armlow", "armhigh"), ]
  v <- vcov(fit)[c("armlow", "armhigh"), c("armlow", "armhigh")]
  corr <- cov2cor(v)
  p <- sapply(abs(b[, 3]), function(c) 1 - two_sided_box(c, corr, fit$df.residual))
  dunnett[[ep]] <- p
  for (j in 1:2) {
    contrast <- paste(c("low", "high")[j], "- placebo")
    res[[length(res) + 1]] <- data.frame(endpoint = ep, visit = "week8", analysis = "ancova", contrast = contrast,
                                         statistic = b[j, 3], p_value = b[j, 4], p_dunnett = p[j], p_adjusted = NA)
  }
  # van Elteren of change (logs for the log endpoint) within region
  ch <- f(num(tr[[paste0(ep, "_week8")]])) - f(num(tr[[paste0(ep, "_baseline")]]))
  ok <- !is.na(ch)
  for (a in c("low", "high")) {
    x <- ch[ok & tr$arm == a]; y <- ch[ok & tr$arm == "placebo"]
    z <- stratum_z(x, y, tr$region[ok & tr$arm == a], tr$region[ok & tr$arm == "placebo"])
    res[[length(res) + 1]] <- data.frame(endpoint = ep, visit = "week8", analysis = "van_elteren",
                                         contrast = paste(a, "- placebo"), statistic = z, p_value = 2 * pnorm(-abs(z)),
                                         p_dunnett = NA, p_adjusted = NA)
  }
}
out3 <- do.call(rbind, res)
# p_adjusted: the primary endpoint keeps its Dunnett p; Holm over the secondary endpoints' Dunnett p per contrast
for (j in 1:2) {
  contrast <- paste(c("low", "high")[j], "- placebo")
  sel <- out3$analysis == "ancova" & out3$contrast == contrast
  out3$p_adjusted[sel & out3$endpoint == "score"] <- dunnett$score[j]
  holm <- p.adjust(c(dunnett$biomarker[j], dunnett$walk[j]), "holm")
  out3$p_adjusted[sel & out3$endpoint == "biomarker"] <- holm[1]
  out3$p_adjusted[sel & out3$endpoint == "walk"] <- holm[2]
}
write.csv(out3, file.path(out, "three_arm_stratified", "expected.csv"), row.names = FALSE)
print(out3, digits = 12)
