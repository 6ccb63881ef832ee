# Reference results for trialkit's efficacy layer, computed by R.
#
# Run from the repository root, after the abbasi2012 snapshot:
#   .venv/bin/python tests/reference/analyses/snapshot_abbasi2012.py
#   Rscript tests/reference/analyses/make_reference.R
#
# 1. Generates the synthetic cases `three_arm`, `missing` and `percent` (trial.csv + study.toml),
#    seeded, and the specs without a baseline visit `no_baseline_three_arm` and
#    `no_baseline_abbasi2012` (study.toml only: the spec of the case minus its baseline visit,
#    reading the case's trial.csv).
# 2. For every case reads study.toml and trial.csv back from disk (the same text trialkit reads)
#    and writes, in tests/reference/analyses/<case>/:
#      expected.csv               results table (docs/analyses.md definitions)
#      expected_multiplicity.csv  the secondary-endpoint family under every adjustment
#      expected_table1.csv        baseline characteristics by arm
#      expected_smd.csv           standardised mean differences vs control
#      expected_wilcox_paths.csv  exact vs normal-approximation path of every Wilcoxon row, and
#                                 the exact root sets behind R's uniroot answers
#    and, for cases with percent-change responders (`percent`):
#      expected_percent_undefined.csv  subjects whose percent change is undefined (baseline 0)
#      expected_sweep.csv              the responder MCID sweep at the primary visit
# 3. Writes tests/reference/analyses/versions.txt.
#
# Numbers are printed with sprintf("%.17g"); NA is written as an empty field. See README.md.

suppressPackageStartupMessages(library(emmeans))
options(warn = 1, stringsAsFactors = FALSE)

ROOT <- "tests/reference/analyses"
if (!dir.exists(ROOT)) stop("run from the repository root: Rscript tests/reference/analyses/make_reference.R")
ALPHA_DEFAULT <- 0.05
MISSING_TOKENS <- c("", "NA", ".")   # trialkit's default [data].missing

# ---------------------------------------------------------------------------------------------
# Small helpers

fmt_num <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))

# decimal text of a rounded value with no trailing zeros ("12.30" -> "12.3", "40.0" -> "40")
fmt_dec <- function(x, digits) {
  x <- x + 0   # no "-0"
  s <- sprintf(paste0("%.", digits, "f"), x)
  if (digits > 0) s <- sub("\\.$", "", sub("0+$", "", s))
  s[is.na(x)] <- ""
  s
}

sort_c <- function(x) sort(unique(x), method = "radix")   # C-locale order, independent of LC_COLLATE

write_table <- function(df, path) {
  for (nm in names(df)) {
    col <- df[[nm]]
    if (is.numeric(col)) col <- fmt_num(col)
    col[is.na(col)] <- ""
    if (any(grepl("[,\"\n]", col))) stop("field with a comma or quote in ", nm)
    df[[nm]] <- col
  }
  lines <- c(paste(names(df), collapse = ","), apply(as.matrix(df), 1, paste, collapse = ","))
  writeLines(lines, path, useBytes = TRUE)
}

write_trial_csv <- function(df, path) {
  lines <- c(paste(names(df), collapse = ","), apply(as.matrix(df), 1, paste, collapse = ","))
  writeLines(lines, path, useBytes = TRUE)
}

# ---------------------------------------------------------------------------------------------
# A minimal reader for the study.toml files of these cases (the subset of TOML they use:
# [section], [[endpoints]], key = "string" | number | true/false | [array] | { k = v }).

parse_value <- function(v) {
  v <- trimws(v)
  if (grepl("^\".*\"$", v)) {
    if (grepl("\\\\", v)) stop("escapes are not supported: ", v)
    return(substr(v, 2, nchar(v) - 1))
  }
  if (v %in% c("true", "false")) return(v == "true")
  if (grepl("^\\[.*\\]$", v)) {
    inner <- trimws(substr(v, 2, nchar(v) - 1))
    if (inner == "") return(character(0))
    parts <- trimws(strsplit(inner, ",")[[1]])
    parts <- parts[parts != ""]
    vals <- lapply(parts, parse_value)
    return(if (all(vapply(vals, is.character, TRUE))) unlist(vals) else as.numeric(unlist(vals)))
  }
  if (grepl("^\\{.*\\}$", v)) {
    inner <- trimws(substr(v, 2, nchar(v) - 1))
    out <- list()
    for (kv in strsplit(inner, ",")[[1]]) {
      m <- regmatches(kv, regexec("^\\s*([A-Za-z0-9_]+)\\s*=\\s*(.*)$", kv))[[1]]
      out[[m[2]]] <- parse_value(m[3])
    }
    return(out)
  }
  num <- suppressWarnings(as.numeric(v))
  if (is.na(num)) stop("cannot parse TOML value: ", v)
  num
}

read_spec <- function(path) {
  raw <- readLines(path, warn = FALSE, encoding = "UTF-8")
  raw <- raw[!grepl("^\\s*(#|$)", raw)]
  # join multi-line arrays
  lines <- character(0)
  buf <- ""
  for (l in raw) {
    buf <- if (buf == "") l else paste(buf, trimws(l))
    opened <- lengths(regmatches(buf, gregexpr("\\[", buf))) - lengths(regmatches(buf, gregexpr("\\]", buf)))
    if (grepl("^\\s*\\[", buf) || opened == 0) { lines <- c(lines, buf); buf <- "" }
  }
  spec <- list(endpoints = list())
  section <- NULL
  for (l in lines) {
    if (grepl("^\\s*\\[\\[endpoints\\]\\]\\s*$", l)) {
      spec$endpoints[[length(spec$endpoints) + 1]] <- list(); section <- "endpoints"; next
    }
    m <- regmatches(l, regexec("^\\s*\\[([A-Za-z0-9_.]+)\\]\\s*$", l))[[1]]
    if (length(m)) { section <- m[2]; next }
    m <- regmatches(l, regexec("^\\s*([A-Za-z0-9_]+)\\s*=\\s*(.*)$", l))[[1]]
    if (!length(m)) stop("cannot parse line: ", l)
    key <- m[2]; val <- parse_value(sub("\\s+#[^\"]*$", "", m[3]))
    if (identical(section, "endpoints")) {
      spec$endpoints[[length(spec$endpoints)]][[key]] <- val
    } else if (identical(section, "endpoints.responder")) {
      i <- length(spec$endpoints)
      spec$endpoints[[i]]$responder <- c(spec$endpoints[[i]]$responder, setNames(list(val), key))
    } else {
      parts <- strsplit(section, ".", fixed = TRUE)[[1]]
      if (length(parts) == 1) spec[[parts]][[key]] <- val
      else spec[[parts[1]]][[parts[2]]][[key]] <- val
    }
  }
  spec
}

# ---------------------------------------------------------------------------------------------
# Case generators

# Values as trialkit will read them: the decimal text parsed back to double.
as_read <- function(x, digits) as.numeric(fmt_dec(x, digits))

# Changes of 1-decimal data computed in double can differ in the last bits although their decimals
# are equal ("near ties", e.g. 412.3 - 400.0 vs 420.3 - 408.0). R's wilcox.test ranks the doubles
# as they are, so such pairs are not ties. The generated cases avoid them: while two |changes| at a
# visit are unequal but within 1e-9 relative, the later subject's follow-up is raised by 0.1.
denear <- function(post, base, digits = 1) {
  post <- as_read(post, digits)
  base <- as_read(base, digits)
  repeat {
    ch <- abs(post - base)
    o <- order(ch, na.last = NA)
    v <- ch[o]
    bad <- which(diff(v) > 0 & diff(v) <= 1e-9 * pmax(head(v, -1), tail(v, -1), 1))
    if (!length(bad)) return(post)
    i <- max(o[bad[1]], o[bad[1] + 1])
    post[i] <- as_read(post[i] + 10^-digits, digits)
  }
}

gen_three_arm <- function(dir) {
  set.seed(20240301, kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")
  sizes <- c(placebo = 31, low = 29, high = 30)
  n <- sum(sizes)
  arm <- sample(rep(names(sizes), sizes))                       # randomisation order
  age <- pmin(pmax(round(rnorm(n, 56, 9)), 30), 80)
  sex <- sample(c("F", "M"), n, replace = TRUE)
  region <- sample(c("north", "south", "west"), n, replace = TRUE, prob = c(0.5, 0.32, 0.18))
  eff <- function(a, v) {
    tab <- list(score = c(placebo = -2, low = -3.5, high = -5),
                biomarker = c(placebo = 0, low = 0.12, high = 0.22),
                walk = c(placebo = 6, low = 15, high = 24))
    w <- if (v == "week4") 0.6 else 1
    w * tab[[a]]
  }
  covshift <- 0.06 * (age - 56) + ifelse(sex == "M", 1, 0) +
    ifelse(region == "south", 1.2, ifelse(region == "west", -0.8, 0))
  # score: 0-40 integer, lower better
  s0 <- rnorm(n, 22, 5) + covshift
  score_b <- pmin(pmax(round(s0), 0), 40)
  subj_s <- rnorm(n, 0, 2.5)
  score4 <- pmin(pmax(round(score_b + eff("score", "week4")[arm] + subj_s + rnorm(n, 0, 3)), 0), 40)
  score8 <- pmin(pmax(round(score_b + eff("score", "week8")[arm] + subj_s + rnorm(n, 0, 3)), 0), 40)
  # biomarker: log-normal, positive, 2 decimals
  lb <- rnorm(n, log(48), 0.45) + 0.01 * (age - 56)
  bio_b <- round(exp(lb), 2)
  l4 <- 0.65 * log(bio_b) + 0.35 * log(48) + eff("biomarker", "week4")[arm] + rnorm(n, 0, 0.3)
  l8 <- 0.65 * log(bio_b) + 0.35 * log(48) + eff("biomarker", "week8")[arm] + rnorm(n, 0, 0.3)
  bio4 <- round(exp(l4), 2)
  bio8 <- round(exp(l8), 2)
  # walk: six-minute walk distance (m), 1 decimal, higher better
  w0 <- rnorm(n, 420, 55) - 2.5 * (age - 56) + ifelse(sex == "M", 25, 0)
  walk_b <- round(w0, 1)
  subj_w <- rnorm(n, 0, 15)
  walk4 <- round(walk_b + eff("walk", "week4")[arm] + subj_w + rnorm(n, 0, 22), 1)
  walk8 <- round(walk_b + eff("walk", "week8")[arm] + subj_w + rnorm(n, 0, 22), 1)
  # missing follow-ups: 4 dropouts (all week-8 values), 2 missed week-4 visits, 1 missing walk test
  drop8 <- c(which(arm == "placebo")[7], which(arm == "low")[12], which(arm == "high")[c(5, 22)])
  skip4 <- c(which(arm == "low")[3], which(arm == "high")[9])
  nowalk <- which(arm == "placebo")[20]
  score8[drop8] <- NA; bio8[drop8] <- NA; walk8[drop8] <- NA
  score4[skip4] <- NA; bio4[skip4] <- NA; walk4[skip4] <- NA
  walk8[nowalk] <- NA
  walk4 <- denear(walk4, walk_b); walk8 <- denear(walk8, walk_b)
  df <- data.frame(
    subject_id = sprintf("TA-%03d", seq_len(n)), arm = arm, age = fmt_dec(age, 0), sex = sex,
    region = region,
    score_baseline = fmt_dec(score_b, 0), score_week4 = fmt_dec(score4, 0), score_week8 = fmt_dec(score8, 0),
    biomarker_baseline = fmt_dec(bio_b, 2), biomarker_week4 = fmt_dec(bio4, 2), biomarker_week8 = fmt_dec(bio8, 2),
    walk_baseline = fmt_dec(walk_b, 1), walk_week4 = fmt_dec(walk4, 1), walk_week8 = fmt_dec(walk8, 1))
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  write_trial_csv(df, file.path(dir, "trial.csv"))
  writeLines(c(
    "# Synthetic three-arm trial for the R reference analyses; generated (seed 20240301) by",
    "# tests/reference/analyses/make_reference.R. Not real data.",
    "",
    "[study]", "id = \"three_arm\"", "title = \"Three-arm reference case (synthetic)\"", "alpha = 0.05", "",
    "[arms]", "column = \"arm\"", "control = \"placebo\"", "levels = [\"placebo\", \"low\", \"high\"]", "",
    "[visits]", "baseline = \"baseline\"", "order = [\"baseline\", \"week4\", \"week8\"]", "primary = \"week8\"", "",
    "[[endpoints]]", "id = \"score\"", "label = \"Symptom score\"", "unit = \"points\"", "range = [0, 40]",
    "integer = true", "better = \"lower\"", "scale = \"linear\"", "primary = true",
    "responder = { change = -5 }", "",
    "[[endpoints]]", "id = \"biomarker\"", "label = \"Serum biomarker\"", "unit = \"ng/mL\"",
    "range = [0, 10000]", "better = \"higher\"", "scale = \"log\"", "",
    "[[endpoints]]", "id = \"walk\"", "label = \"Six-minute walk distance\"", "unit = \"m\"",
    "range = [0, 1000]", "better = \"higher\"", "scale = \"linear\"", "",
    "[analysis]", "covariates = [\"age\", \"sex\", \"region\"]", "categorical = [\"sex\", \"region\"]",
    "multiplicity = \"holm\"", "",
    "[data]", "format = \"wide\"", "subject = \"subject_id\"", "path = \"trial.csv\"",
    "pattern = \"{endpoint}_{visit}\""), file.path(dir, "study.toml"))
}

gen_missing <- function(dir) {
  set.seed(20240302, kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")
  sizes <- c(placebo = 25, active = 25)
  n <- sum(sizes)
  arm <- sample(rep(names(sizes), sizes))
  age <- pmin(pmax(round(rnorm(n, 52, 8)), 35), 75)
  pain_b <- sample(4:9, n, replace = TRUE, prob = c(1, 2, 3, 3, 2, 1))
  pain12 <- pmin(pmax(round(pain_b + c(placebo = -1, active = -2.4)[arm] + rnorm(n, 0, 1.6)), 0), 10)
  qol_b <- round(rnorm(n, 48, 9) - 0.2 * (age - 52), 1)
  qol12 <- round(pmin(pmax(qol_b + c(placebo = 2, active = 7.5)[arm] + rnorm(n, 0, 7), 0), 100), 1)
  # ~20% missing follow-ups: 5 dropouts per arm (both endpoints), one more missing qol only
  pl <- which(arm == "placebo"); ac <- which(arm == "active")
  drop <- c(pl[c(2, 8, 13, 19, 24)], ac[c(4, 9, 15, 21, 25)])
  pain12[drop] <- NA; qol12[drop] <- NA
  qol12[ac[11]] <- NA
  # two missing baselines (one per endpoint), one of them in a dropout
  pain_b[ac[6]] <- NA
  qol_b[pl[8]] <- NA
  # one missing covariate value, in a subject with complete outcomes
  age[pl[5]] <- NA
  qol12 <- denear(qol12, qol_b)
  df <- data.frame(
    subject_id = sprintf("MS-%02d", seq_len(n)), arm = arm, age = fmt_dec(age, 0),
    pain_baseline = fmt_dec(pain_b, 0), pain_week12 = fmt_dec(pain12, 0),
    qol_baseline = fmt_dec(qol_b, 1), qol_week12 = fmt_dec(qol12, 1))
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  write_trial_csv(df, file.path(dir, "trial.csv"))
  writeLines(c(
    "# Synthetic two-arm trial with missing values for the R reference analyses; generated",
    "# (seed 20240302) by tests/reference/analyses/make_reference.R. Not real data.",
    "",
    "[study]", "id = \"missing\"", "title = \"Missing-data reference case (synthetic)\"", "alpha = 0.05", "",
    "[arms]", "column = \"arm\"", "control = \"placebo\"", "levels = [\"placebo\", \"active\"]", "",
    "[visits]", "baseline = \"baseline\"", "order = [\"baseline\", \"week12\"]", "primary = \"week12\"", "",
    "[[endpoints]]", "id = \"pain\"", "label = \"Pain NRS\"", "unit = \"points\"", "range = [0, 10]",
    "integer = true", "better = \"lower\"", "scale = \"linear\"", "primary = true",
    "responder = { change = -2 }", "",
    "[[endpoints]]", "id = \"qol\"", "label = \"Quality of life\"", "unit = \"points\"",
    "range = [0, 100]", "better = \"higher\"", "scale = \"linear\"", "",
    "[analysis]", "covariates = [\"age\"]", "multiplicity = \"holm\"", "",
    "[data]", "format = \"wide\"", "subject = \"subject_id\"", "path = \"trial.csv\"",
    "pattern = \"{endpoint}_{visit}\""), file.path(dir, "study.toml"))
}

gen_percent <- function(dir) {
  set.seed(20240303, kind = "Mersenne-Twister", normal.kind = "Inversion", sample.kind = "Rejection")
  sizes <- c(placebo = 24, active = 26)
  n <- sum(sizes)
  arm <- sample(rep(names(sizes), sizes))
  age <- pmin(pmax(round(rnorm(n, 45, 11)), 18), 75)
  sex <- sample(c("female", "male"), n, replace = TRUE)
  # episodes per week: integer counts, lower better; responder = at least 50% fewer
  ep_b <- rpois(n, 6)
  pl <- which(arm == "placebo"); ac <- which(arm == "active")
  ep_b[c(pl[c(3, 11)], ac[c(2, 9, 17)])] <- 0          # five zero baselines
  ratio <- c(placebo = 0.85, active = 0.5)[arm]
  ep6 <- rpois(n, (ep_b + 0.5) * sqrt(ratio))
  ep12 <- rpois(n, (ep_b + 0.5) * ratio)
  # crp: log-normal, 2 decimals, lower better; responder = at least 30% lower
  crp_b <- round(exp(rnorm(n, log(8), 0.6)), 2)
  crp6 <- round(exp(log(crp_b) + c(placebo = -0.05, active = -0.2)[arm] + rnorm(n, 0, 0.35)), 2)
  crp12 <- round(exp(log(crp_b) + c(placebo = -0.1, active = -0.35)[arm] + rnorm(n, 0, 0.35)), 2)
  # grip: 1 decimal, higher better; responder = at least 15% higher
  grip_b <- round(rnorm(n, 30, 6) + ifelse(sex == "male", 8, 0), 1)
  grip6 <- round(grip_b * exp(c(placebo = 0.02, active = 0.08)[arm] + rnorm(n, 0, 0.1)), 1)
  grip12 <- round(grip_b * exp(c(placebo = 0.03, active = 0.12)[arm] + rnorm(n, 0, 0.1)), 1)
  # missing follow-ups: 3 dropouts (one of them with a zero episodes baseline) and a missed week-6 visit
  drop12 <- c(pl[c(11, 20)], ac[14])
  ep12[drop12] <- NA; crp12[drop12] <- NA; grip12[drop12] <- NA
  ep6[ac[22]] <- NA; crp6[ac[22]] <- NA; grip6[ac[22]] <- NA
  grip6 <- denear(grip6, grip_b); grip12 <- denear(grip12, grip_b)
  df <- data.frame(
    subject_id = sprintf("PC-%02d", seq_len(n)), arm = arm, age = fmt_dec(age, 0), sex = sex,
    episodes_baseline = fmt_dec(ep_b, 0), episodes_week6 = fmt_dec(ep6, 0), episodes_week12 = fmt_dec(ep12, 0),
    crp_baseline = fmt_dec(crp_b, 2), crp_week6 = fmt_dec(crp6, 2), crp_week12 = fmt_dec(crp12, 2),
    grip_baseline = fmt_dec(grip_b, 1), grip_week6 = fmt_dec(grip6, 1), grip_week12 = fmt_dec(grip12, 1))
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  write_trial_csv(df, file.path(dir, "trial.csv"))
  writeLines(c(
    "# Synthetic two-arm trial with percent-change responders (and zero baselines) for the R reference",
    "# analyses; generated (seed 20240303) by tests/reference/analyses/make_reference.R. Not real data.",
    "",
    "[study]", "id = \"percent\"", "title = \"Percent-change responder reference case (synthetic)\"",
    "alpha = 0.05", "",
    "[arms]", "column = \"arm\"", "control = \"placebo\"", "levels = [\"placebo\", \"active\"]", "",
    "[visits]", "baseline = \"baseline\"", "order = [\"baseline\", \"week6\", \"week12\"]", "primary = \"week12\"", "",
    "[[endpoints]]", "id = \"episodes\"", "label = \"Episodes per week\"", "unit = \"episodes\"",
    "range = [0, 100]", "integer = true", "better = \"lower\"", "scale = \"linear\"", "primary = true",
    "responder = { percent_change = -50 }", "",
    "[[endpoints]]", "id = \"crp\"", "label = \"C-reactive protein\"", "unit = \"mg/L\"",
    "range = [0, 1000]", "better = \"lower\"", "scale = \"log\"", "responder = { percent_change = -30 }", "",
    "[[endpoints]]", "id = \"grip\"", "label = \"Grip strength\"", "unit = \"kg\"",
    "range = [0, 100]", "better = \"higher\"", "scale = \"linear\"", "responder = { percent_change = 15 }", "",
    "[analysis]", "covariates = [\"age\", \"sex\"]", "categorical = [\"sex\"]", "multiplicity = \"holm\"", "",
    "[data]", "format = \"wide\"", "subject = \"subject_id\"", "path = \"trial.csv\"",
    "pattern = \"{endpoint}_{visit}\""), file.path(dir, "study.toml"))
}

# The spec of `case` without its baseline visit: `[visits] baseline` dropped, the baseline taken
# out of `order`, the data read from the case's own trial.csv. Everything else verbatim.
gen_no_baseline <- function(case, dir) {
  src <- readLines(file.path(ROOT, case, "study.toml"), warn = FALSE, encoding = "UTF-8")
  spec <- read_spec(file.path(ROOT, case, "study.toml"))
  bl <- spec$visits$baseline
  stopifnot(!is.null(bl))
  body <- src[!grepl("^\\s*#", src)]
  while (length(body) && body[1] == "") body <- body[-1]
  k <- grep(paste0("^baseline = \"", bl, "\"$"), body)
  stopifnot(length(k) == 1)
  body <- body[-k]
  k <- grep("^order = \\[", body)
  stopifnot(length(k) == 1)
  body[k] <- paste0("order = [", paste0("\"", setdiff(spec$visits$order, bl), "\"", collapse = ", "), "]")
  k <- grep(paste0("^path = \"", spec$data$path, "\"$"), body)
  stopifnot(length(k) == 1)
  body[k] <- paste0("path = \"../", case, "/", spec$data$path, "\"")
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  writeLines(c(
    sprintf("# The %s reference case without a baseline visit: its study.toml minus `[visits] baseline`", case),
    sprintf("# (and the baseline in `order`), reading ../%s/%s; written by", case, spec$data$path),
    "# tests/reference/analyses/make_reference.R.",
    "", body), file.path(dir, "study.toml"))
}

# ---------------------------------------------------------------------------------------------
# Wilcoxon diagnostics: R's normal-approximation path finds the estimate and CI limits with
# uniroot (tol 1e-4) on a step function. These reproduce R's W(d) and return the exact set of
# d where it crosses zq, evaluated on the jump points (pairwise differences / Walsh averages).

w2_fun <- function(x, y) {   # two-sample, correct = TRUE, two-sided (copied from stats:::wilcox.test.default)
  n.x <- length(x); n.y <- length(y)
  function(d) {
    dr <- rank(c(x - d, y))
    NTIES.CI <- table(dr)
    dz <- sum(dr[seq_along(x)]) - n.x * (n.x + 1) / 2 - n.x * n.y / 2
    SIGMA.CI <- sqrt((n.x * n.y / 12) * ((n.x + n.y + 1) - sum(NTIES.CI^3 - NTIES.CI) / ((n.x + n.y) * (n.x + n.y - 1))))
    (dz - sign(dz) * 0.5) / SIGMA.CI
  }
}
w1_fun <- function(x) {      # signed rank, correct = TRUE, two-sided; x already without zeros
  function(d) {
    xd <- x - d
    xd <- xd[xd != 0]
    nx <- length(xd)
    dr <- rank(abs(xd))
    zd <- sum(dr[xd > 0]) - nx * (nx + 1) / 4
    NTIES.CI <- table(dr)
    SIGMA.CI <- sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - sum(NTIES.CI^3 - NTIES.CI) / 48)
    (zd - sign(zd) * 0.5) / SIGMA.CI
  }
}
# W(d) - zq is non-increasing in sign and constant between consecutive jump points. The roots
# uniroot may return (to within tol) form [a, b] with a = inf{d: W(d) <= zq} and
# b = sup{d: W(d) >= zq}; both are jump points (a flat stretch at zq extends to its end jumps).
root_set <- function(W, jumps, zq) {
  jumps <- sort(unique(jumps))
  mids <- (head(jumps, -1) + tail(jumps, -1)) / 2
  grid <- c(rbind(jumps, c(mids, NA)))
  grid <- grid[!is.na(grid)]                 # jump, mid, jump, ..., jump
  is_jump <- seq_along(grid) %% 2 == 1
  f <- vapply(grid, function(d) W(d) - zq, 0)
  lo <- which(f <= 0)[1]
  hi <- tail(which(f >= 0), 1)
  if (is.na(lo) || !length(hi)) return(c(NA_real_, NA_real_))
  a <- if (is_jump[lo]) grid[lo] else grid[lo - 1]
  b <- if (is_jump[hi]) grid[hi] else grid[hi + 1]
  stopifnot(a <= b)
  c(a, b)
}
near_tie_pairs <- function(v) {
  v <- sort(v)
  d <- diff(v)
  sum(d > 0 & d <= 1e-9 * pmax(abs(head(v, -1)), abs(tail(v, -1)), 1))
}

# ---------------------------------------------------------------------------------------------
# The analyses of one case

empty_row <- function(endpoint, visit, analysis, contrast) {
  data.frame(endpoint = endpoint, visit = visit, analysis = analysis, contrast = contrast,
             estimate = NA_real_, std_error = NA_real_, ci_low = NA_real_, ci_high = NA_real_,
             df = NA_real_, statistic = NA_real_, p_value = NA_real_, p_adjusted = NA_real_,
             n_treatment = NA_real_, n_control = NA_real_)
}
fill <- function(row, ...) { v <- list(...); for (k in names(v)) row[[k]] <- unname(v[[k]]); row }

hedges <- function(diff, s_pooled, n1, n0, z) {
  nu <- n1 + n0 - 2
  J <- exp(lgamma(nu / 2) - lgamma((nu - 1) / 2)) / sqrt(nu / 2)
  g <- J * diff / s_pooled
  se <- sqrt((n1 + n0) / (n1 * n0) + g^2 / (2 * (n1 + n0)))
  c(g = g, se = se, lo = g - z * se, hi = g + z * se)
}
pooled_sd <- function(a, b) {
  sqrt(((length(a) - 1) * var(a) + (length(b) - 1) * var(b)) / (length(a) + length(b) - 2))
}
wilson <- function(x, n) as.numeric(suppressWarnings(prop.test(x, n, correct = FALSE))$conf.int)

# Two arms compared: Welch and Student t (kinds[1:2]) and the rank-sum test with its HL shift
# (kinds[3]) of x (arm) vs y (control) on the analysis scale; bt back-transforms estimate and CI.
# Also records the rank-sum path (expected_wilcox_paths.csv).
two_sample_rows <- function(e, v, kinds, cl, x, y, conf, alpha, bt, add, add_path) {
  for (an in kinds[1:2]) {
    tt <- t.test(x, y, var.equal = an == kinds[2], conf.level = conf)
    add(fill(empty_row(e, v, an, cl),
             estimate = bt(mean(x) - mean(y)), std_error = tt$stderr,
             ci_low = bt(tt$conf.int[1]), ci_high = bt(tt$conf.int[2]),
             df = tt$parameter, statistic = tt$statistic, p_value = tt$p.value,
             n_treatment = length(x), n_control = length(y)))
  }
  wt <- suppressWarnings(wilcox.test(x, y, conf.int = TRUE, conf.level = conf))
  add(fill(empty_row(e, v, kinds[3], cl),
           estimate = bt(wt$estimate), ci_low = bt(wt$conf.int[1]), ci_high = bt(wt$conf.int[2]),
           statistic = wt$statistic, p_value = wt$p.value,
           n_treatment = length(x), n_control = length(y)))
  r <- rank(c(x, y))
  ties <- length(r) != length(unique(r))
  exact <- length(x) < 50 && length(y) < 50 && !ties
  p <- list(endpoint = e, visit = v, analysis = kinds[3], contrast = cl,
            path = if (exact) "exact" else "normal", ties = ties, zeroes = NA,
            near_tie_pairs = near_tie_pairs(c(x, y)), n_treatment = length(x), n_control = length(y),
            estimate = bt(wt$estimate), hl_median = bt(median(outer(x, y, "-"))),
            estimate_root_low = NA, estimate_root_high = NA,
            ci_low = bt(wt$conf.int[1]), ci_low_root_low = NA, ci_low_root_high = NA,
            ci_high = bt(wt$conf.int[2]), ci_high_root_low = NA, ci_high_root_high = NA)
  if (!exact) {
    W <- w2_fun(x, y); jumps <- as.vector(outer(x, y, "-"))
    e0 <- root_set(W, jumps, 0); lo <- root_set(W, jumps, qnorm(alpha / 2, lower.tail = FALSE))
    hi <- root_set(W, jumps, qnorm(alpha / 2))
    p[c("estimate_root_low", "estimate_root_high")] <- bt(e0)
    p[c("ci_low_root_low", "ci_low_root_high")] <- bt(lo)
    p[c("ci_high_root_low", "ci_high_root_high")] <- bt(hi)
  }
  add_path(p)
}

# Hedges' g of the ANCOVA difference (analysis scale) over the pooled SD of the unadjusted
# follow-up values (analysis scale) of the ANCOVA subjects d of the two arms.
adjusted_g_row <- function(e, v, a, ctrl, ctr, d, z, add) {
  k <- which(ctr$contrast == paste(a, "-", ctrl))
  ya <- d$y[d$arm == a]; y0 <- d$y[d$arm == ctrl]
  h <- hedges(ctr$estimate[k], pooled_sd(ya, y0), length(ya), length(y0), z)
  add(fill(empty_row(e, v, "hedges_g_ancova", paste(a, "-", ctrl)),
           estimate = h[["g"]], std_error = h[["se"]], ci_low = h[["lo"]], ci_high = h[["hi"]],
           n_treatment = length(ya), n_control = length(y0)))
}

# Without a baseline visit: each arm against control on the follow-up values (logs for log
# endpoints; tp is already on the analysis scale), every subject with the value (covariates not
# needed); the adjusted g from the ANCOVA on covariates only.
followup_rows <- function(e, v, tp, arm, trts, ctrl, conf, alpha, z, bt, ctr, d, add, add_path) {
  for (a in trts) {
    x <- tp[!is.na(tp) & arm == a]; y <- tp[!is.na(tp) & arm == ctrl]
    two_sample_rows(e, v, c("welch_followup", "student_followup", "mann_whitney_followup"),
                    paste(a, "-", ctrl), x, y, conf, alpha, bt, add, add_path)
    adjusted_g_row(e, v, a, ctrl, ctr, d, z, add)
  }
}

# The responder MCID sweep at one visit: per threshold and arm vs control, RD (Newcombe), RR and
# OR (Woolf) with the Fisher p, as the responder rows; RR left out when a responder count is 0,
# OR when a cell is 0. rv: what the threshold applies to; has: where it is defined.
sweep_rows <- function(e, v, rv, has, arm, trts, ctrl, thresholds, z) {
  out <- list()
  for (a in trts) for (th in thresholds) {
    resp <- if (th < 0) rv <= th else rv >= th
    A <- sum(resp[has & arm == a]); n1 <- sum(has & arm == a)
    C <- sum(resp[has & arm == ctrl]); n0 <- sum(has & arm == ctrl)
    B <- n1 - A; D <- n0 - C
    p1 <- A / n1; p0 <- C / n0
    w1 <- wilson(A, n1); w0 <- wilson(C, n0)
    rd <- p1 - p0
    fp <- fisher.test(matrix(c(A, B, C, D), 2, byrow = TRUE))$p.value
    row <- function(an, est, lo, hi) data.frame(
      endpoint = e, visit = v, threshold = th, analysis = an, contrast = paste(a, "-", ctrl),
      estimate = est, ci_low = lo, ci_high = hi, p_value = fp,
      responders_treatment = A, n_treatment = n1, responders_control = C, n_control = n0)
    out[[length(out) + 1]] <- row("responder_rd", rd, rd - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2),
                                  rd + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2))
    if (A > 0 && C > 0) {
      se <- sqrt(1 / A - 1 / n1 + 1 / C - 1 / n0)
      out[[length(out) + 1]] <- row("responder_rr", p1 / p0, exp(log(p1 / p0) - z * se), exp(log(p1 / p0) + z * se))
    }
    if (min(A, B, C, D) > 0) {
      se <- sqrt(1 / A + 1 / B + 1 / C + 1 / D)
      or <- (A * D) / (B * C)
      out[[length(out) + 1]] <- row("responder_or", or, exp(log(or) - z * se), exp(log(or) + z * se))
    }
  }
  do.call(rbind, out)
}

analyse_case <- function(case) {
  dir <- file.path(ROOT, case)
  spec <- read_spec(file.path(dir, "study.toml"))
  alpha <- if (is.null(spec$study$alpha)) ALPHA_DEFAULT else spec$study$alpha
  conf <- 1 - alpha
  z <- qnorm(1 - alpha / 2)
  stopifnot(spec$data$format == "wide", spec$data$pattern == "{endpoint}_{visit}")
  raw <- read.csv(file.path(dir, spec$data$path), colClasses = "character", na.strings = MISSING_TOKENS,
                  check.names = FALSE, encoding = "UTF-8")
  ctrl <- spec$arms$control
  levels <- c(ctrl, setdiff(spec$arms$levels, ctrl))
  trts <- levels[-1]
  arm <- raw[[spec$arms$column]]
  stopifnot(all(arm %in% levels))
  visits <- spec$visits$order
  bl <- spec$visits$baseline
  post_visits <- setdiff(visits, bl)
  primary_visit <- if (is.null(spec$visits$primary)) tail(visits, 1) else spec$visits$primary
  covs <- if (is.null(spec$analysis$covariates)) character(0) else spec$analysis$covariates
  cats <- if (is.null(spec$analysis$categorical)) character(0) else spec$analysis$categorical
  stopifnot(!any(c("arm", "y", "base") %in% covs))
  eps <- spec$endpoints
  ep_ids <- vapply(eps, function(e) e$id, "")
  prim <- which(vapply(eps, function(e) isTRUE(e$primary), TRUE))
  if (!length(prim)) prim <- 1
  primary_ep <- ep_ids[prim]
  col <- function(e, v) sub("{visit}", v, sub("{endpoint}", e, spec$data$pattern, fixed = TRUE), fixed = TRUE)
  covdat <- lapply(covs, function(cv) {
    x <- raw[[cv]]
    if (cv %in% cats) factor(x, levels = sort_c(x[!is.na(x)])) else as.numeric(x)
  })
  names(covdat) <- covs

  rows <- list()
  add <- function(r) rows[[length(rows) + 1]] <<- r
  paths <- list()
  add_path <- function(p) paths[[length(paths) + 1]] <<- p
  omitted <- character(0)
  undefined <- list()   # percent-change responders: subjects with a zero baseline, per cell
  sweeps <- list()
  has_bl <- !is.null(bl)

  for (ep in eps) {
    e <- ep$id
    is_log <- identical(ep$scale, "log")
    tr <- if (is_log) log else identity
    bt <- if (is_log) exp else identity
    base <- if (has_bl) as.numeric(raw[[col(e, bl)]]) else NULL
    for (v in post_visits) {
      post <- as.numeric(raw[[col(e, v)]])
      tp <- tr(post)
      if (has_bl) {
        tb <- tr(base); chg <- tp - tb
        has_chg <- !is.na(tb) & !is.na(tp)
      }

      # ---- ANCOVA (complete cases in post, baseline, covariates); without a baseline visit
      #      follow-up ~ arm + covariates
      d <- data.frame(arm = factor(arm, levels = levels), y = tp)
      if (has_bl) d$base <- tb
      for (cv in covs) d[[cv]] <- covdat[[cv]]
      d <- d[complete.cases(d), , drop = FALSE]
      for (cv in cats) d[[cv]] <- droplevels(d[[cv]])
      fit <- lm(reformulate(c("arm", if (has_bl) "base", covs), response = "y"), data = d)
      if (any(is.na(coef(fit)))) stop(case, " ", e, " ", v, ": aliased coefficient")
      em <- emmeans(fit, "arm")
      ems <- summary(em, infer = c(TRUE, FALSE), level = conf)
      ctr <- summary(contrast(em, "trt.vs.ctrl", adjust = "none"), infer = c(TRUE, TRUE), level = conf)
      n_anc <- table(d$arm)
      for (i in seq_along(trts)) {
        a <- trts[i]
        k <- which(ctr$contrast == paste(a, "-", ctrl))
        stopifnot(length(k) == 1)
        add(fill(empty_row(e, v, "ancova", paste(a, "-", ctrl)),
                 estimate = bt(ctr$estimate[k]), std_error = ctr$SE[k],
                 ci_low = bt(ctr$lower.CL[k]), ci_high = bt(ctr$upper.CL[k]), df = ctr$df[k],
                 statistic = ctr$t.ratio[k], p_value = ctr$p.value[k],
                 n_treatment = n_anc[[a]], n_control = n_anc[[ctrl]]))
      }
      for (a in levels) {
        k <- which(as.character(ems$arm) == a)
        add(fill(empty_row(e, v, "ancova_lsmean", a),
                 estimate = bt(ems$emmean[k]), std_error = ems$SE[k],
                 ci_low = bt(ems$lower.CL[k]), ci_high = bt(ems$upper.CL[k]), df = ems$df[k],
                 n_treatment = n_anc[[a]]))
      }
      if (!has_bl) {
        followup_rows(e, v, tp, arm, trts, ctrl, conf, alpha, z, bt, ctr, d, add, add_path)
        next
      }

      # ---- change-from-baseline tests (subjects with baseline and post)
      for (a in trts) {
        x <- chg[has_chg & arm == a]; y <- chg[has_chg & arm == ctrl]
        cl <- paste(a, "-", ctrl)
        two_sample_rows(e, v, c("welch_change", "student_change", "mann_whitney_change"), cl, x, y,
                        conf, alpha, bt, add, add_path)
      }
      for (a in levels) {
        sel <- has_chg & arm == a
        tt <- t.test(tp[sel], tb[sel], paired = TRUE, conf.level = conf)
        add(fill(empty_row(e, v, "paired_within", a),
                 estimate = bt(tt$estimate), std_error = tt$stderr,
                 ci_low = bt(tt$conf.int[1]), ci_high = bt(tt$conf.int[2]), df = tt$parameter,
                 statistic = tt$statistic, p_value = tt$p.value, n_treatment = sum(sel)))
        x <- chg[sel]
        wt <- suppressWarnings(wilcox.test(x, conf.int = TRUE, conf.level = conf))
        add(fill(empty_row(e, v, "wilcoxon_within", a),
                 estimate = bt(wt$estimate), ci_low = bt(wt$conf.int[1]), ci_high = bt(wt$conf.int[2]),
                 statistic = wt$statistic, p_value = wt$p.value, n_treatment = sum(sel)))
        zeroes <- any(x == 0)
        xn <- x[x != 0]
        r <- rank(abs(xn))
        ties <- length(r) != length(unique(r))
        exact <- length(xn) < 50 && !ties && !zeroes
        walsh <- outer(xn, xn, "+"); walsh <- walsh[!lower.tri(walsh)] / 2
        p <- list(endpoint = e, visit = v, analysis = "wilcoxon_within", contrast = a,
                  path = if (exact) "exact" else "normal", ties = ties, zeroes = zeroes,
                  near_tie_pairs = near_tie_pairs(abs(xn)), n_treatment = sum(sel), n_control = NA,
                  estimate = bt(wt$estimate), hl_median = bt(median(walsh)),
                  estimate_root_low = NA, estimate_root_high = NA,
                  ci_low = bt(wt$conf.int[1]), ci_low_root_low = NA, ci_low_root_high = NA,
                  ci_high = bt(wt$conf.int[2]), ci_high_root_low = NA, ci_high_root_high = NA)
        if (!exact) {
          W <- w1_fun(xn)
          e0 <- root_set(W, walsh, 0); lo <- root_set(W, walsh, qnorm(alpha / 2, lower.tail = FALSE))
          hi <- root_set(W, walsh, qnorm(alpha / 2))
          p[c("estimate_root_low", "estimate_root_high")] <- bt(e0)
          p[c("ci_low_root_low", "ci_low_root_high")] <- bt(lo)
          p[c("ci_high_root_low", "ci_high_root_high")] <- bt(hi)
        }
        add_path(p)
      }

      # ---- Hedges' g (change) and ANCOVA-adjusted g
      for (a in trts) {
        x <- chg[has_chg & arm == a]; y <- chg[has_chg & arm == ctrl]
        h <- hedges(mean(x) - mean(y), pooled_sd(x, y), length(x), length(y), z)
        add(fill(empty_row(e, v, "hedges_g", paste(a, "-", ctrl)),
                 estimate = h[["g"]], std_error = h[["se"]], ci_low = h[["lo"]], ci_high = h[["hi"]],
                 n_treatment = length(x), n_control = length(y)))
        adjusted_g_row(e, v, a, ctrl, ctr, d, z, add)
      }

      # ---- responders: on the change (unit scale), or on the percent change
      #      100 * (post - base) / base of the unit-scale values (also for log endpoints), undefined
      #      for a zero baseline: those subjects are left out and counted
      thr <- ep$responder$change
      thr_pct <- ep$responder$percent_change
      if (!is.null(thr) && !is.null(thr_pct)) stop(case, " ", e, ": two responder thresholds")
      if (!is.null(thr)) {
        if (is_log) stop("responder thresholds on log-scale endpoints are not defined here")
        rv <- chg; has_resp <- has_chg
      } else if (!is.null(thr_pct)) {
        thr <- thr_pct
        zero <- !is.na(base) & base == 0 & !is.na(post)
        rv <- 100 * (post - base) / base
        has_resp <- !is.na(base) & !is.na(post) & !zero
        undefined[[length(undefined) + 1]] <- data.frame(
          endpoint = e, visit = v, n_undefined = sum(zero),
          n_undefined_by_arm = paste(levels, vapply(levels, function(a) sum(zero & arm == a), 0L),
                                     sep = "=", collapse = " "))
        if (v == primary_visit) sweeps[[length(sweeps) + 1]] <- sweep_rows(
          e, v, rv, has_resp, arm, trts, ctrl, thr * c(0.5, 0.75, 1, 1.25, 1.5), z)
      }
      if (!is.null(thr)) {
        resp <- if (thr < 0) rv <= thr else rv >= thr
        cnt <- function(a) c(x = sum(resp[has_resp & arm == a]), n = sum(has_resp & arm == a))
        for (a in levels) {
          k <- cnt(a)
          ci <- wilson(k[["x"]], k[["n"]])
          add(fill(empty_row(e, v, "responder_rate", a), estimate = k[["x"]] / k[["n"]],
                   ci_low = ci[1], ci_high = ci[2], n_treatment = k[["n"]]))
        }
        for (a in trts) {
          t1 <- cnt(a); t0 <- cnt(ctrl)
          A <- t1[["x"]]; n1 <- t1[["n"]]; C <- t0[["x"]]; n0 <- t0[["n"]]
          B <- n1 - A; D <- n0 - C
          p1 <- A / n1; p0 <- C / n0
          w1 <- wilson(A, n1); w0 <- wilson(C, n0)
          rd <- p1 - p0
          rd_lo <- rd - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2)
          rd_hi <- rd + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2)
          fp <- fisher.test(matrix(c(A, B, C, D), 2, byrow = TRUE))$p.value
          cl <- paste(a, "-", ctrl)
          add(fill(empty_row(e, v, "responder_rd", cl), estimate = rd, ci_low = rd_lo, ci_high = rd_hi,
                   p_value = fp, n_treatment = n1, n_control = n0))
          if (A > 0 && C > 0) {
            se <- sqrt(1 / A - 1 / n1 + 1 / C - 1 / n0)
            rr <- p1 / p0
            add(fill(empty_row(e, v, "responder_rr", cl), estimate = rr, std_error = se,
                     ci_low = exp(log(rr) - z * se), ci_high = exp(log(rr) + z * se),
                     p_value = fp, n_treatment = n1, n_control = n0))
          } else omitted <- c(omitted, sprintf("%s %s %s responder_rr: a zero responder count", case, e, v))
          if (min(A, B, C, D) > 0) {
            se <- sqrt(1 / A + 1 / B + 1 / C + 1 / D)
            or <- (A * D) / (B * C)
            add(fill(empty_row(e, v, "responder_or", cl), estimate = or, std_error = se,
                     ci_low = exp(log(or) - z * se), ci_high = exp(log(or) + z * se),
                     p_value = fp, n_treatment = n1, n_control = n0))
          } else omitted <- c(omitted, sprintf("%s %s %s responder_or: a zero cell", case, e, v))
          if (rd != 0) {
            excl <- rd_lo > 0 || rd_hi < 0
            lims <- if (excl) sort(c(1 / rd_lo, 1 / rd_hi)) else c(1 / rd_lo, 1 / rd_hi)
            add(fill(empty_row(e, v, "responder_nnt", cl), estimate = 1 / rd,
                     ci_low = lims[1], ci_high = lims[2], n_treatment = n1, n_control = n0))
          } else omitted <- c(omitted, sprintf("%s %s %s responder_nnt: risk difference 0", case, e, v))
        }
      }
    }
  }
  res <- do.call(rbind, rows)

  # ---- multiplicity: ancova at the primary visit, secondary endpoints, per contrast
  secondary <- setdiff(ep_ids, primary_ep)
  mult <- list()
  for (a in trts) {
    cl <- paste(a, "-", ctrl)
    k0 <- which(res$analysis == "ancova" & res$visit == primary_visit & res$contrast == cl & res$endpoint == primary_ep)
    res$p_adjusted[k0] <- res$p_value[k0]
    if (length(secondary)) {
      k <- vapply(secondary, function(s) which(res$analysis == "ancova" & res$visit == primary_visit &
                                                 res$contrast == cl & res$endpoint == s), 0L)
      p <- res$p_value[k]
      res$p_adjusted[k] <- p.adjust(p, "holm")
      mult[[length(mult) + 1]] <- data.frame(
        contrast = cl, endpoint = secondary, p_value = p, holm = p.adjust(p, "holm"),
        hochberg = p.adjust(p, "hochberg"), bonferroni = p.adjust(p, "bonferroni"),
        bh = p.adjust(p, "BH"), fixed_sequence = cummax(p))
    }
  }
  write_table(res, file.path(dir, "expected.csv"))
  write_table(do.call(rbind, mult), file.path(dir, "expected_multiplicity.csv"))
  pth <- do.call(rbind, lapply(paths, as.data.frame))
  write_table(pth, file.path(dir, "expected_wilcox_paths.csv"))

  # ---- Table 1 and SMDs
  t1 <- list(); smd <- list()
  num_vars <- c(lapply(setdiff(covs, cats), function(cv) list(name = cv, kind = "covariate", x = covdat[[cv]])),
                if (has_bl) lapply(eps, function(ep) list(name = ep$id, kind = "endpoint_baseline",
                                                          x = as.numeric(raw[[col(ep$id, bl)]]))))
  for (nv in num_vars) {
    for (a in levels) {
      xa <- nv$x[arm == a]; xo <- xa[!is.na(xa)]
      q <- quantile(xo, c(0.25, 0.75), type = 7, names = FALSE)
      t1[[length(t1) + 1]] <- data.frame(
        variable = nv$name, kind = nv$kind, level = NA, arm = a, n = length(xo), n_missing = sum(is.na(xa)),
        mean = mean(xo), sd = sd(xo), median = median(xo), q1 = q[1], q3 = q[2], percent = NA)
    }
    x0 <- nv$x[arm == ctrl & !is.na(nv$x)]
    for (a in trts) {
      x1 <- nv$x[arm == a & !is.na(nv$x)]
      smd[[length(smd) + 1]] <- data.frame(variable = nv$name, contrast = paste(a, "-", ctrl),
                                           smd = (mean(x1) - mean(x0)) / sqrt((var(x1) + var(x0)) / 2))
    }
  }
  for (cv in cats) {
    f <- covdat[[cv]]
    lv <- levels(f)
    for (l in lv) for (a in levels) {
      fa <- f[arm == a]
      t1[[length(t1) + 1]] <- data.frame(
        variable = cv, kind = "categorical", level = l, arm = a, n = sum(fa == l, na.rm = TRUE),
        n_missing = sum(is.na(fa)), mean = NA, sd = NA, median = NA, q1 = NA, q3 = NA,
        percent = 100 * sum(fa == l, na.rm = TRUE) / sum(!is.na(fa)))
    }
    props <- function(a) { fa <- f[arm == a & !is.na(f)]; vapply(lv, function(l) mean(fa == l), 0) }
    P0 <- props(ctrl)
    for (a in trts) {
      P1 <- props(a)
      if (length(lv) == 2) {
        s <- (P1[2] - P0[2]) / sqrt((P1[2] * (1 - P1[2]) + P0[2] * (1 - P0[2])) / 2)
      } else {
        tt <- P1[-1]; cc <- P0[-1]
        cvm <- function(p) { S <- -outer(p, p); diag(S) <- p * (1 - p); S }
        S <- (cvm(tt) + cvm(cc)) / 2
        s <- sqrt(drop(t(tt - cc) %*% solve(S) %*% (tt - cc)))
      }
      smd[[length(smd) + 1]] <- data.frame(variable = cv, contrast = paste(a, "-", ctrl), smd = unname(s))
    }
  }
  write_table(do.call(rbind, t1), file.path(dir, "expected_table1.csv"))
  write_table(do.call(rbind, smd), file.path(dir, "expected_smd.csv"))
  if (length(undefined)) write_table(do.call(rbind, undefined), file.path(dir, "expected_percent_undefined.csv"))
  if (length(sweeps)) write_table(do.call(rbind, sweeps), file.path(dir, "expected_sweep.csv"))
  list(case = case, n = table(factor(arm, levels = levels)), omitted = omitted, paths = pth,
       undefined = if (length(undefined)) do.call(rbind, undefined))
}

# ---------------------------------------------------------------------------------------------

if (!file.exists(file.path(ROOT, "abbasi2012", "trial.csv")))
  stop("abbasi2012/trial.csv is missing: run .venv/bin/python tests/reference/analyses/snapshot_abbasi2012.py first")
gen_three_arm(file.path(ROOT, "three_arm"))
gen_missing(file.path(ROOT, "missing"))
gen_percent(file.path(ROOT, "percent"))
gen_no_baseline("three_arm", file.path(ROOT, "no_baseline_three_arm"))
gen_no_baseline("abbasi2012", file.path(ROOT, "no_baseline_abbasi2012"))

CASES <- c("abbasi2012", "three_arm", "missing", "percent", "no_baseline_three_arm", "no_baseline_abbasi2012")
summaries <- lapply(CASES, analyse_case)
for (s in summaries) {
  cat(sprintf("%s: %s\n", s$case, paste(names(s$n), s$n, sep = "=", collapse = ", ")))
  if (length(s$omitted)) cat(paste0("  omitted: ", s$omitted, "\n"), sep = "")
  if (!is.null(s$undefined)) cat(sprintf("  percent change undefined (baseline 0): %s %s: %d (%s)\n", s$undefined$endpoint,
                                          s$undefined$visit, s$undefined$n_undefined, s$undefined$n_undefined_by_arm), sep = "")
  pth <- s$paths
  cat(sprintf("  %-20s %-20s %-7s %-20s %-7s ties=%-5s zeroes=%-5s near_ties=%d\n", pth$analysis, pth$endpoint,
              pth$visit, pth$contrast, pth$path, pth$ties, pth$zeroes, pth$near_tie_pairs), sep = "")
}

md5 <- tools::md5sum(file.path(ROOT, c("abbasi2012", "three_arm", "missing", "percent"), "trial.csv"))
writeLines(c(
  paste("R:", R.version.string),
  paste("platform:", R.version$platform),
  paste("emmeans:", as.character(packageVersion("emmeans"))),
  paste("estimability:", as.character(packageVersion("estimability"))),
  paste("stats:", as.character(packageVersion("stats"))),
  paste0("trial.csv md5 ", basename(dirname(names(md5))), ": ", unname(md5))),
  file.path(ROOT, "versions.txt"))
