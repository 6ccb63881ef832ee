# LS means with a numeric covariate that takes two values: emmeans' two reference grids.
#
# Run from the repository root:
#   Rscript tests/reference/analyses/two_valued/make_reference.R
#
# 1. Generates the case (seeded; explicit RNGkind): trial.csv (wide, arm column) and study.toml.
#    Covariates: age (numeric), smoker (numeric, coded 0/1: two values), site (categorical A/B/C).
#    Endpoints: score (linear), grade (linear, its baseline takes the two values 1 and 2), crp
#    (log scale). Visits baseline and week12; four follow-ups missing.
# 2. Reads trial.csv back and, for every endpoint, fits lm(y ~ arm + baseline + age + smoker +
#    site) on the complete cases (log y and a pre-computed log-baseline column for crp) and writes
#    expected.csv with the LS means and the active - placebo contrast under both settings:
#      two_valued = "levels": emmeans(fit, "arm")              (default cov.keep = "2": smoker,
#                             and grade's baseline, become factors; predictions averaged over
#                             their two values with equal weights)
#      two_valued = "mean":   emmeans(fit, "arm", cov.keep = 0) (every numeric covariate at its
#                             mean, as cov.reduce = mean does; SAS LSMEANS)
#    contrast(..., "trt.vs.ctrl", adjust = "none"); confint at 95%.
# 3. Writes output.txt (the emmeans printouts) and versions.txt.
#
# Numbers are printed with sprintf("%.17g"); NA is an empty field.

suppressPackageStartupMessages(library(emmeans))
HERE <- "tests/reference/analyses/two_valued"
if (!dir.exists(HERE)) stop("run from the repository root")
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240508)

fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
dec <- function(x, digits) ifelse(is.na(x), "", formatC(round(x, digits), format = "f", digits = digits))

n <- c(placebo = 22, active = 26)
arm <- rep(names(n), n)
N <- length(arm)
id <- sprintf("TV-%03d", seq_len(N))
age <- round(rnorm(N, 55, 9))
smoker <- rbinom(N, 1, 0.3)
site <- sample(c("A", "B", "C"), N, replace = TRUE, prob = c(0.5, 0.3, 0.2))
active <- as.numeric(arm == "active")

score0 <- rnorm(N, 30, 6)
score1 <- 8 + 0.7 * score0 - 3 * active + 2.5 * smoker + 0.05 * age + rnorm(N, 0, 4)
grade0 <- sample(c(1, 2), N, replace = TRUE, prob = c(0.6, 0.4))
grade1 <- 1.5 + 0.8 * grade0 - 0.4 * active + 0.3 * smoker + rnorm(N, 0, 0.5)
crp0 <- exp(rnorm(N, log(4), 0.5))
crp1 <- exp(0.3 + 0.7 * log(crp0) - 0.25 * active + 0.2 * smoker + rnorm(N, 0, 0.4))

trial <- data.frame(
  subject_id = id, arm = arm, age = dec(age, 0), smoker = dec(smoker, 0), site = site,
  score_baseline = dec(score0, 1), score_week12 = dec(score1, 1),
  grade_baseline = dec(grade0, 0), grade_week12 = dec(grade1, 1),
  crp_baseline = dec(crp0, 2), crp_week12 = dec(crp1, 2),
  stringsAsFactors = FALSE
)
for (k in c(3, 17, 30, 41)) trial$score_week12[k] <- ""   # missing follow-ups
trial$crp_week12[c(8, 35)] <- ""
writeLines(c(paste(names(trial), collapse = ","), apply(as.matrix(trial), 1, paste, collapse = ",")),
           file.path(HERE, "trial.csv"), useBytes = TRUE)

writeLines(c(
  "# Reference case for LS means with a two-valued numeric covariate (make_reference.R).",
  "[study]", 'id = "two_valued"', 'title = "Two-valued covariate (reference case)"', "alpha = 0.05", "",
  "[arms]", 'column = "arm"', 'control = "placebo"', 'levels = ["placebo", "active"]', "",
  "[visits]", 'baseline = "baseline"', 'order = ["baseline", "week12"]', 'primary = "week12"', "",
  "[[endpoints]]", 'id = "score"', "primary = true", "",
  "[[endpoints]]", 'id = "grade"', "",
  "[[endpoints]]", 'id = "crp"', 'scale = "log"', "",
  "[analysis]", 'covariates = ["age", "smoker", "site"]', 'categorical = ["site"]', "",
  "[data]", 'format = "wide"', 'subject = "subject_id"', 'path = "trial.csv"', 'pattern = "{endpoint}_{visit}"'
), file.path(HERE, "study.toml"))

# --- the analyses, from the file as written ----------------------------------------------------
d <- read.csv(file.path(HERE, "trial.csv"), colClasses = "character")
num <- function(x) as.numeric(ifelse(x == "", NA, x))
d$arm <- factor(d$arm, levels = c("placebo", "active"))
d$site <- factor(d$site, levels = sort(unique(d$site), method = "radix"))
d$age <- num(d$age)
d$smoker <- num(d$smoker)

rows <- list()
log_lines <- character(0)
for (e in c("score", "grade", "crp")) {
  y <- num(d[[paste0(e, "_week12")]])
  b <- num(d[[paste0(e, "_baseline")]])
  is_log <- e == "crp"
  frame <- data.frame(arm = d$arm, y = if (is_log) log(y) else y, base = if (is_log) log(b) else b,
                      age = d$age, smoker = d$smoker, site = d$site)
  frame <- frame[complete.cases(frame), ]
  fit <- lm(y ~ arm + base + age + smoker + site, data = frame)
  back <- if (is_log) exp else identity
  for (setting in c("levels", "mean")) {
    em <- if (setting == "levels") emmeans(fit, "arm") else emmeans(fit, "arm", cov.keep = 0)
    log_lines <- c(log_lines, sprintf("== %s, two_valued = %s", e, setting),
                   capture.output(print(ref_grid(fit, cov.keep = if (setting == "levels") "2" else 0)),
                                  print(summary(em)), print(summary(contrast(em, "trt.vs.ctrl", adjust = "none"),
                                                                    infer = TRUE))))
    s <- summary(em, infer = c(TRUE, FALSE))
    for (k in seq_len(nrow(s))) {
      rows[[length(rows) + 1]] <- data.frame(
        two_valued = setting, endpoint = e, visit = "week12", analysis = "ancova_lsmean",
        contrast = as.character(s$arm[k]), estimate = back(s$emmean[k]), std_error = s$SE[k],
        ci_low = back(s$lower.CL[k]), ci_high = back(s$upper.CL[k]), df = s$df[k], statistic = NA,
        p_value = NA, n_treatment = sum(frame$arm == s$arm[k]), n_control = NA)
    }
    ct <- summary(contrast(em, "trt.vs.ctrl", adjust = "none"), infer = TRUE)
    rows[[length(rows) + 1]] <- data.frame(
      two_valued = setting, endpoint = e, visit = "week12", analysis = "ancova",
      contrast = as.character(ct$contrast[1]), estimate = back(ct$estimate[1]), std_error = ct$SE[1],
      ci_low = back(ct$lower.CL[1]), ci_high = back(ct$upper.CL[1]), df = ct$df[1], statistic = ct$t.ratio[1],
      p_value = ct$p.value[1], n_treatment = sum(frame$arm == "active"), n_control = sum(frame$arm == "placebo"))
  }
}
out <- do.call(rbind, rows)
for (c in names(out)) if (is.numeric(out[[c]])) out[[c]] <- fmt(out[[c]])
writeLines(c(paste(names(out), collapse = ","), apply(as.matrix(out), 1, paste, collapse = ",")),
           file.path(HERE, "expected.csv"), useBytes = TRUE)
writeLines(log_lines, file.path(HERE, "output.txt"))
writeLines(c(R.version.string, paste("emmeans", packageVersion("emmeans"))), file.path(HERE, "versions.txt"))
