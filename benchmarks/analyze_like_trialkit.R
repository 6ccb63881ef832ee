# The analyses of `trialkit analyze`, in R: the baseline of benchmarks/bench_cli.py.
#
#   Rscript benchmarks/analyze_like_trialkit.R PLAN_DIR OUT_DIR
#
# PLAN_DIR holds what the study spec says, written by bench_cli.py before any timing:
#   settings.csv   key,value: control, arms (;-separated, control first), baseline, visits
#                  (post-baseline, ;-separated), primary_visit, subject, alpha, numeric and
#                  categorical covariates (;-separated), files (arm=path;...)
#   endpoints.csv  id,scale,responder,integer,primary
# The trial's CSV files (one per arm, wide: {endpoint}_{visit}) are read here, as trialkit reads
# them. For every endpoint and post-baseline visit, as docs/analyses.md defines them:
#   ANCOVA: lm(y ~ arm + baseline + covariates) + emmeans LS means + trt.vs.ctrl contrasts;
#   change: t.test (Welch, Student, paired), wilcox.test (rank-sum and signed-rank, conf.int);
#   Hedges' g (of change, and ANCOVA-adjusted); responders: prop.test, fisher.test, RD (Newcombe),
#   RR, OR, NNT, and the MCID sweep at the primary visit; p.adjust (Holm) over the secondary
#   endpoints; Table 1 (mean, SD, quartiles, counts) and standardised differences.
# Writes OUT_DIR/results.csv, table1.csv and sweep.csv, and prints the primary result.

suppressPackageStartupMessages(library(emmeans))
options(warn = -1)  # ties: wilcox.test warns that exact p-values cannot be computed

args <- commandArgs(trailingOnly = TRUE)
plan <- args[1]
out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

settings <- read.csv(file.path(plan, "settings.csv"), stringsAsFactors = FALSE, na.strings = character(0))
get <- function(key) settings$value[settings$key == key]
split <- function(x) if (length(x) == 0 || x == "") character(0) else strsplit(x, ";", fixed = TRUE)[[1]]
endpoints <- read.csv(file.path(plan, "endpoints.csv"), stringsAsFactors = FALSE)
arms <- split(get("arms"))
control <- get("control")
baseline <- get("baseline")
visits <- split(get("visits"))
primary_visit <- get("primary_visit")
alpha <- as.numeric(get("alpha"))
numeric_covs <- split(get("numeric"))
factor_covs <- split(get("categorical"))
z <- qnorm(1 - alpha / 2)

files <- split(get("files"))
trial <- do.call(rbind, lapply(files, function(f) {
  kv <- strsplit(f, "=", fixed = TRUE)[[1]]
  d <- read.csv(kv[2], stringsAsFactors = FALSE, na.strings = c("", "NA", "."))
  d$arm <- kv[1]
  d
}))
trial$arm <- factor(trial$arm, levels = arms)
for (c in factor_covs) trial[[c]] <- factor(trial[[c]])

rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)

hedges <- function(diff, sd, n1, n0) {
  nu <- n1 + n0 - 2
  j <- exp(lgamma(nu / 2) - lgamma((nu - 1) / 2)) / sqrt(nu / 2)
  g <- j * diff / sd
  se <- sqrt((n1 + n0) / (n1 * n0) + g^2 / (2 * (n1 + n0)))
  c(g, se, g - z * se, g + z * se)
}
pooled_sd <- function(x, y) sqrt(((length(x) - 1) * var(x) + (length(y) - 1) * var(y)) / (length(x) + length(y) - 2))
wilson <- function(x, n) prop.test(x, n, correct = FALSE, conf.level = 1 - alpha)$conf.int
responders <- function(ct, cc, threshold, a, e, v) {
  r1 <- if (threshold < 0) ct <= threshold else ct >= threshold
  r0 <- if (threshold < 0) cc <= threshold else cc >= threshold
  x1 <- sum(r1); n1 <- length(r1); x0 <- sum(r0); n0 <- length(r0)
  p <- fisher.test(matrix(c(x1, n1 - x1, x0, n0 - x0), 2, byrow = TRUE))$p.value
  p1 <- x1 / n1; p0 <- x0 / n0
  w1 <- wilson(x1, n1); w0 <- wilson(x0, n0)
  rd <- c(p1 - p0, p1 - p0 - sqrt((p1 - w1[1])^2 + (w0[2] - p0)^2), p1 - p0 + sqrt((w1[2] - p1)^2 + (p0 - w0[1])^2))
  out <- data.frame(endpoint = e, visit = v, threshold = threshold, analysis = "responder_rd", contrast = a,
                    estimate = rd[1], ci_low = rd[2], ci_high = rd[3], p_value = p)
  if (x1 > 0 && x0 > 0) {
    se <- sqrt(1 / x1 - 1 / n1 + 1 / x0 - 1 / n0)
    out <- rbind(out, data.frame(endpoint = e, visit = v, threshold = threshold, analysis = "responder_rr",
                                 contrast = a, estimate = p1 / p0, ci_low = exp(log(p1 / p0) - z * se),
                                 ci_high = exp(log(p1 / p0) + z * se), p_value = p))
  }
  if (min(x1, n1 - x1, x0, n0 - x0) > 0) {
    or <- (x1 * (n0 - x0)) / ((n1 - x1) * x0)
    se <- sqrt(1 / x1 + 1 / (n1 - x1) + 1 / x0 + 1 / (n0 - x0))
    out <- rbind(out, data.frame(endpoint = e, visit = v, threshold = threshold, analysis = "responder_or",
                                 contrast = a, estimate = or, ci_low = exp(log(or) - z * se),
                                 ci_high = exp(log(or) + z * se), p_value = p))
  }
  if (rd[1] != 0) {
    out <- rbind(out, data.frame(endpoint = e, visit = v, threshold = threshold, analysis = "responder_nnt",
                                 contrast = a, estimate = 1 / rd[1], ci_low = min(1 / rd[2], 1 / rd[3]),
                                 ci_high = max(1 / rd[2], 1 / rd[3]), p_value = NA))
  }
  out
}

sweep <- list()
for (i in seq_len(nrow(endpoints))) {
  e <- endpoints$id[i]
  log_scale <- endpoints$scale[i] == "log"
  threshold <- endpoints$responder[i]
  tr <- function(x) if (log_scale) log(x) else x
  back <- function(x) if (log_scale) exp(x) else x
  for (v in visits) {
    y <- trial[[paste0(e, "_", v)]]
    b <- trial[[paste0(e, "_", baseline)]]
    frame <- data.frame(arm = trial$arm, y = tr(y), base = tr(b), trial[c(numeric_covs, factor_covs)])
    frame <- frame[complete.cases(frame), ]
    terms <- c("arm", "base", numeric_covs, factor_covs)
    fit <- lm(reformulate(terms, response = "y"), data = frame)
    em <- emmeans(fit, "arm")
    lsm <- summary(em, level = 1 - alpha)
    for (k in seq_along(arms)) {
      add(endpoint = e, visit = v, analysis = "ancova_lsmean", contrast = arms[k], estimate = back(lsm$emmean[k]),
          std_error = lsm$SE[k], ci_low = back(lsm$lower.CL[k]), ci_high = back(lsm$upper.CL[k]), p_value = NA)
    }
    ct <- summary(contrast(em, "trt.vs.ctrl", adjust = "none"), infer = TRUE, level = 1 - alpha)
    for (k in seq_len(nrow(ct))) {
      add(endpoint = e, visit = v, analysis = "ancova", contrast = as.character(ct$contrast[k]),
          estimate = back(ct$estimate[k]), std_error = ct$SE[k], ci_low = back(ct$lower.CL[k]),
          ci_high = back(ct$upper.CL[k]), p_value = ct$p.value[k])
    }
    ok <- !is.na(y) & !is.na(b)
    change <- tr(y[ok]) - tr(b[ok])
    raw <- y[ok] - b[ok]
    arm <- trial$arm[ok]
    cc <- change[arm == control]
    for (a in arms[arms != control]) {
      ca <- change[arm == a]
      label <- paste(a, "-", control)
      for (equal in c(FALSE, TRUE)) {
        tt <- t.test(ca, cc, var.equal = equal, conf.level = 1 - alpha)
        add(endpoint = e, visit = v, analysis = if (equal) "student_change" else "welch_change", contrast = label,
            estimate = back(tt$estimate[1] - tt$estimate[2]), std_error = tt$stderr, ci_low = back(tt$conf.int[1]),
            ci_high = back(tt$conf.int[2]), p_value = tt$p.value)
      }
      w <- wilcox.test(ca, cc, conf.int = TRUE, conf.level = 1 - alpha)
      add(endpoint = e, visit = v, analysis = "mann_whitney_change", contrast = label, estimate = back(w$estimate),
          std_error = NA, ci_low = back(w$conf.int[1]), ci_high = back(w$conf.int[2]), p_value = w$p.value)
      g <- hedges(mean(ca) - mean(cc), pooled_sd(ca, cc), length(ca), length(cc))
      add(endpoint = e, visit = v, analysis = "hedges_g", contrast = label, estimate = g[1], std_error = g[2],
          ci_low = g[3], ci_high = g[4], p_value = NA)
      d <- ct$estimate[ct$contrast == paste(a, "-", control)]
      ga <- hedges(d, pooled_sd(frame$y[frame$arm == a], frame$y[frame$arm == control]),
                   sum(frame$arm == a), sum(frame$arm == control))
      add(endpoint = e, visit = v, analysis = "hedges_g_ancova", contrast = label, estimate = ga[1],
          std_error = ga[2], ci_low = ga[3], ci_high = ga[4], p_value = NA)
      if (!is.na(threshold)) {
        r <- responders(raw[arm == a], raw[arm == control], threshold, label, e, v)
        for (k in seq_len(nrow(r))) {
          add(endpoint = e, visit = v, analysis = r$analysis[k], contrast = label, estimate = r$estimate[k],
              std_error = NA, ci_low = r$ci_low[k], ci_high = r$ci_high[k], p_value = r$p_value[k])
        }
        if (v == primary_visit) {
          for (f in c(0.5, 0.75, 1, 1.25, 1.5)) {
            sweep[[length(sweep) + 1]] <- responders(raw[arm == a], raw[arm == control], f * threshold, label, e, v)
          }
        }
      }
    }
    for (a in arms) {
      ca <- change[arm == a]
      tt <- t.test(ca, conf.level = 1 - alpha)
      add(endpoint = e, visit = v, analysis = "paired_within", contrast = a, estimate = back(tt$estimate),
          std_error = tt$stderr, ci_low = back(tt$conf.int[1]), ci_high = back(tt$conf.int[2]), p_value = tt$p.value)
      w <- wilcox.test(ca, conf.int = TRUE, conf.level = 1 - alpha)
      add(endpoint = e, visit = v, analysis = "wilcoxon_within", contrast = a, estimate = back(w$estimate),
          std_error = NA, ci_low = back(w$conf.int[1]), ci_high = back(w$conf.int[2]), p_value = w$p.value)
      if (!is.na(threshold)) {
        x <- sum(if (threshold < 0) raw[arm == a] <= threshold else raw[arm == a] >= threshold)
        ci <- wilson(x, length(ca))
        add(endpoint = e, visit = v, analysis = "responder_rate", contrast = a, estimate = x / length(ca),
            std_error = NA, ci_low = ci[1], ci_high = ci[2], p_value = NA)
      }
    }
  }
}
results <- do.call(rbind, rows)
results$p_adjusted <- NA
secondary <- results$analysis == "ancova" & results$visit == primary_visit &
  results$endpoint %in% endpoints$id[!endpoints$primary]
for (label in unique(results$contrast[secondary])) {
  family <- secondary & results$contrast == label
  results$p_adjusted[family] <- p.adjust(results$p_value[family], "holm")
}

# Table 1 and standardised differences: covariates, then each endpoint at baseline
variables <- c(numeric_covs, factor_covs, paste0(endpoints$id, "_", baseline))
table1 <- list()
smd <- list()
for (name in variables) {
  x <- trial[[name]]
  if (is.factor(x)) {
    counts <- table(trial$arm, x)
    table1[[name]] <- data.frame(variable = name, as.data.frame(counts))
    p <- prop.table(counts, 1)[, 2]
    for (a in arms[arms != control]) {
      smd[[length(smd) + 1]] <- data.frame(variable = name, contrast = paste(a, "-", control),
        smd = (p[a] - p[control]) / sqrt((p[a] * (1 - p[a]) + p[control] * (1 - p[control])) / 2))
    }
  } else {
    s <- do.call(rbind, lapply(arms, function(a) {
      xa <- x[trial$arm == a & !is.na(x)]
      q <- quantile(xa, c(0.25, 0.5, 0.75), type = 7)
      data.frame(variable = name, arm = a, n = length(xa), mean = mean(xa), sd = sd(xa),
                 median = q[2], q1 = q[1], q3 = q[3])
    }))
    table1[[name]] <- s
    for (a in arms[arms != control]) {
      smd[[length(smd) + 1]] <- data.frame(variable = name, contrast = paste(a, "-", control),
        smd = (s$mean[s$arm == a] - s$mean[s$arm == control]) / sqrt((s$sd[s$arm == a]^2 + s$sd[s$arm == control]^2) / 2))
    }
  }
}

write.csv(results, file.path(out_dir, "results.csv"), row.names = FALSE)
write.csv(do.call(rbind, smd), file.path(out_dir, "smd.csv"), row.names = FALSE)
write.csv(do.call(rbind, sweep), file.path(out_dir, "responder_sweep.csv"), row.names = FALSE)
for (name in names(table1)) {
  write.csv(table1[[name]], file.path(out_dir, paste0("table1_", name, ".csv")), row.names = FALSE)
}
primary <- results[results$analysis == "ancova" & results$visit == primary_visit &
                     results$endpoint == endpoints$id[endpoints$primary][1], ]
for (k in seq_len(nrow(primary))) {
  cat(sprintf("%s: %s %.3g (CI %.3g to %.3g; p = %.3g)\n", primary$endpoint[k], primary$contrast[k],
              primary$estimate[k], primary$ci_low[k], primary$ci_high[k], primary$p_value[k]))
}
cat(sprintf("wrote %d results to %s\n", nrow(results), out_dir))
