# Shared functions of the MMRM reference scripts in this folder (sourced by them; run nothing itself).
#
# Everything an MMRM engine must reproduce is computed here from formulas, independently of the
# fitting software, and checked against nlme::gls:
#   * the residual covariance of each SAS TYPE= structure as a function of its parameters theta;
#   * the REML and ML log-likelihoods in SAS's convention, as functions of theta;
#   * Satterthwaite degrees of freedom, df = 2 (l'C l)^2 / (g' W g), C(theta) = (X'V(theta)^-1 X)^-1,
#     g = d(l'C l)/d theta (numDeriv), W = inverse numDeriv Hessian of -loglik at theta-hat;
#   * the empirical (sandwich, CR0) covariance of the fixed effects.
# Satterthwaite df are invariant to how theta is parametrised (at the optimum, the gradient transforms
# with the Jacobian J and W with J^-1 J^-T), so the parametrisations below are chosen for convenience.

suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
  library(numDeriv)
})

# ---------------------------------------------------------------------------------------------------
# Design and likelihood

#' Model pieces: X, y, the subject blocks and the visit index (1..k) of each analysed row.
#' `data` holds analysed rows only (response observed), sorted by subject and visit.
make_design <- function(data, formula, subject, visit_index) {
  X <- model.matrix(formula, data)
  y <- model.response(model.frame(formula, data))
  rows <- split(seq_len(nrow(data)), factor(data[[subject]], levels = unique(data[[subject]])))
  vis <- lapply(rows, function(i) data[[visit_index]][i])
  pattern <- vapply(vis, paste, "", collapse = ",")
  list(X = X, y = y, rows = rows, vis = vis, pattern = pattern, N = nrow(X), p = ncol(X))
}

#' X'V^-1 X, X'V^-1 y, y'V^-1 y and sum log|V_i| for a k x k residual covariance `Sigma`.
gls_pieces <- function(Sigma, d) {
  p <- d$p
  XtVX <- matrix(0, p, p)
  XtVy <- numeric(p)
  yVy <- 0
  logdet <- 0
  cache <- list()
  for (s in seq_along(d$rows)) {
    key <- d$pattern[[s]]
    if (is.null(cache[[key]])) {
      v <- d$vis[[s]]
      R <- chol(Sigma[v, v, drop = FALSE])
      cache[[key]] <- list(inv = chol2inv(R), logdet = 2 * sum(log(diag(R))))
    }
    A <- cache[[key]]$inv
    i <- d$rows[[s]]
    Xi <- d$X[i, , drop = FALSE]
    yi <- d$y[i]
    AX <- A %*% Xi
    XtVX <- XtVX + crossprod(Xi, AX)
    XtVy <- XtVy + as.vector(crossprod(AX, yi))
    yVy <- yVy + sum(yi * (A %*% yi))
    logdet <- logdet + cache[[key]]$logdet
  }
  list(XtVX = XtVX, XtVy = XtVy, yVy = yVy, logdet = logdet)
}

#' REML (SAS convention) or ML log-likelihood at residual covariance `Sigma`, beta profiled out:
#'   REML: -1/2 [(N - p) log 2pi + sum log|V_i| + log|X'V^-1 X| + r'V^-1 r]
#'   ML:   -1/2 [N log 2pi + sum log|V_i| + r'V^-1 r]
loglik_sigma <- function(Sigma, d, reml = TRUE) {
  g <- tryCatch(gls_pieces(Sigma, d), error = function(e) NULL)
  if (is.null(g)) return(-Inf)
  R <- tryCatch(chol(g$XtVX), error = function(e) NULL)
  if (is.null(R)) return(-Inf)
  beta <- backsolve(R, forwardsolve(t(R), g$XtVy))
  rVr <- g$yVy - sum(beta * g$XtVy)
  if (reml) {
    -0.5 * ((d$N - d$p) * log(2 * pi) + g$logdet + 2 * sum(log(diag(R))) + rVr)
  } else {
    -0.5 * (d$N * log(2 * pi) + g$logdet + rVr)
  }
}

#' (X'V^-1 X)^-1 at `Sigma`.
beta_covariance <- function(Sigma, d) solve(gls_pieces(Sigma, d)$XtVX)

#' Empirical (sandwich, CR0) covariance of beta-hat at `Sigma` and `beta`:
#'   C [sum_i X_i' V_i^-1 r_i r_i' V_i^-1 X_i] C,  C = (X'V^-1 X)^-1.
sandwich_cr0 <- function(Sigma, d, beta) {
  C <- beta_covariance(Sigma, d)
  meat <- matrix(0, d$p, d$p)
  for (s in seq_along(d$rows)) {
    v <- d$vis[[s]]
    i <- d$rows[[s]]
    Xi <- d$X[i, , drop = FALSE]
    u <- crossprod(Xi, solve(Sigma[v, v, drop = FALSE], d$y[i] - Xi %*% beta))
    meat <- meat + u %*% t(u)
  }
  C %*% meat %*% C
}

# ---------------------------------------------------------------------------------------------------
# Covariance structures (SAS TYPE= names) over k visits: Sigma(theta) and theta from a fitted Sigma.

toeplitz_corr <- function(rho, k) {
  out <- diag(k)
  for (h in seq_len(k - 1)) out[abs(row(out) - col(out)) == h] <- rho[h]
  out
}

make_structure <- function(type, k) {
  lag <- abs(outer(seq_len(k), seq_len(k), "-"))
  switch(type,
    us = list(
      # lower Cholesky factor L of Sigma, column-wise, log of its diagonal
      npar = k * (k + 1) / 2,
      sigma = function(theta) {
        L <- matrix(0, k, k)
        L[lower.tri(L, diag = TRUE)] <- theta
        diag(L) <- exp(diag(L))
        L %*% t(L)
      },
      theta = function(S) {
        L <- t(chol(S))
        diag(L) <- log(diag(L))
        L[lower.tri(L, diag = TRUE)]
      }
    ),
    cs = list(
      # SAS TYPE=CS parameters: common covariance sigma_b^2 and residual sigma_e^2 (linear in Sigma)
      npar = 2,
      sigma = function(theta) theta[2] * diag(k) + theta[1],
      theta = function(S) {
        b <- mean(S[lag > 0])
        c(b, mean(diag(S)) - b)
      }
    ),
    csh = list(
      npar = k + 1,
      sigma = function(theta) {
        sd <- exp(theta[1:k])
        R <- matrix(theta[k + 1], k, k)
        diag(R) <- 1
        outer(sd, sd) * R
      },
      theta = function(S) c(log(sqrt(diag(S))), mean(cov2cor(S)[lag > 0]))
    ),
    ar1 = list(
      npar = 2,
      sigma = function(theta) exp(theta[1]) * theta[2]^lag,
      theta = function(S) c(log(mean(diag(S))), mean(S[lag == 1]) / mean(diag(S)))
    ),
    arh1 = list(
      npar = k + 1,
      sigma = function(theta) {
        sd <- exp(theta[1:k])
        outer(sd, sd) * theta[k + 1]^lag
      },
      theta = function(S) c(log(sqrt(diag(S))), mean(cov2cor(S)[lag == 1]))
    ),
    toep = list(
      npar = k,
      sigma = function(theta) exp(theta[1]) * toeplitz_corr(theta[-1], k),
      theta = function(S) {
        s2 <- mean(diag(S))
        c(log(s2), vapply(seq_len(k - 1), function(h) mean(S[lag == h]) / s2, 0))
      }
    ),
    toeph = list(
      npar = 2 * k - 1,
      sigma = function(theta) {
        sd <- exp(theta[1:k])
        outer(sd, sd) * toeplitz_corr(theta[(k + 1):(2 * k - 1)], k)
      },
      theta = function(S) {
        R <- cov2cor(S)
        c(log(sqrt(diag(S))), vapply(seq_len(k - 1), function(h) mean(R[lag == h]), 0))
      }
    ),
    stop("unknown covariance type ", type)
  )
}

#' nlme correlation and variance functions of each SAS type; `vi` is the integer visit index.
nlme_structure <- function(type, subject, visit) {
  f_idx <- as.formula(paste("~ VISIT_INDEX |", subject))
  f_one <- as.formula(paste("~ 1 |", subject))
  var_ident <- varIdent(form = as.formula(paste("~ 1 |", visit)))
  switch(type,
    us = list(correlation = corSymm(form = f_idx), weights = var_ident),
    cs = list(correlation = corCompSymm(form = f_one), weights = NULL),
    csh = list(correlation = corCompSymm(form = f_one), weights = var_ident),
    ar1 = list(correlation = corAR1(form = f_idx), weights = NULL),
    arh1 = list(correlation = corAR1(form = f_idx), weights = var_ident),
    toep = list(correlation = NULL, weights = NULL, arma = TRUE),
    toeph = list(correlation = NULL, weights = var_ident, arma = TRUE)
  )
}

# ---------------------------------------------------------------------------------------------------
# Fixed-effect names: R's coefficient name and a structured {effect, levels} form (SAS effect syntax).

structured_terms <- function(formula, data) {
  tt <- terms(formula)
  labels <- attr(tt, "term.labels")
  out <- list(list(r_name = "(Intercept)", effect = "Intercept", levels = structure(list(), names = character())))
  for (lab in labels) {
    vars <- strsplit(lab, ":", fixed = TRUE)[[1]]
    is_factor <- vapply(vars, function(v) is.factor(data[[v]]), TRUE)
    lv <- lapply(vars[is_factor], function(v) levels(data[[v]])[-1])
    names(lv) <- vars[is_factor]
    # treatment-contrast columns of a term: non-reference level combinations, first factor fastest
    grid <- if (length(lv)) expand.grid(lv, stringsAsFactors = FALSE) else data.frame(row.names = 1)
    for (r in seq_len(nrow(grid))) {
      parts <- vapply(vars, function(v) if (is_factor[[v]]) paste0(v, grid[r, v]) else v, "")
      levels <- structure(list(), names = character())
      for (v in names(lv)) levels[[v]] <- as.character(grid[r, v])
      out[[length(out) + 1]] <- list(r_name = paste(parts, collapse = ":"), effect = paste(vars, collapse = "*"),
                                     levels = levels)
    }
  }
  out
}

# ---------------------------------------------------------------------------------------------------
# Satterthwaite

#' Jacobian of vec C(theta) and W = (Hessian of -loglik)^-1 at theta-hat.
satterthwaite_setup <- function(struct, theta, d, reml) {
  negll <- function(t) -loglik_sigma(struct$sigma(t), d, reml)
  H <- numDeriv::hessian(negll, theta)
  W <- solve(H)
  J <- numDeriv::jacobian(function(t) as.vector(beta_covariance(struct$sigma(t), d)), theta)
  C <- beta_covariance(struct$sigma(theta), d)
  list(W = W, J = J, C = C, hessian = H)
}

satterthwaite_df <- function(s, l) {
  l <- as.vector(l)
  v <- sum(l * (s$C %*% l))
  g <- as.vector(crossprod(s$J, as.vector(outer(l, l))))
  2 * v^2 / sum(g * (s$W %*% g))
}

# ---------------------------------------------------------------------------------------------------
# Output

#' 15 significant digits; names kept; NULL-free.
write_json15 <- function(x, path) {
  writeLines(jsonlite::toJSON(x, auto_unbox = TRUE, digits = I(15), pretty = TRUE, null = "null", na = "null"), path)
}

matrix_rows <- function(M) lapply(seq_len(nrow(M)), function(i) unname(M[i, ]))

# ---------------------------------------------------------------------------------------------------
# One reference fit: nlme::gls, own likelihood and Satterthwaite df, emmeans LS means and contrasts.

GLS_CONTROL <- glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 1000, msMaxIter = 1000, msVerbose = FALSE)
GLS_CONTROL_TEXT <- "glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 1000, msMaxIter = 1000)"

#' nlme::gls for a SAS covariance type; `start` (a k x k covariance) gives nlme's initial values.
fit_gls <- function(cfg, type, reml, start = NULL) {
  k <- length(cfg$visits)
  f_idx <- as.formula(paste("~ VISIT_INDEX |", cfg$subject))
  f_one <- as.formula(paste("~ 1 |", cfg$subject))
  f_vis <- as.formula(paste("~ 1 |", cfg$visit))
  R <- if (is.null(start)) NULL else cov2cor(start)
  sd <- if (is.null(start)) NULL else sqrt(diag(start))
  lag <- abs(outer(seq_len(k), seq_len(k), "-"))
  rho <- if (is.null(R)) NULL else vapply(seq_len(k - 1), function(h) mean(R[lag == h]), 0)
  cor <- switch(type,
    us = if (is.null(R)) corSymm(form = f_idx) else corSymm(value = R[lower.tri(R)], form = f_idx),
    cs = , csh = if (is.null(R)) corCompSymm(form = f_one) else corCompSymm(value = mean(R[lag > 0]), form = f_one),
    ar1 = , arh1 = if (is.null(R)) corAR1(form = f_idx) else corAR1(value = rho[1], form = f_idx),
    toep = , toeph = if (is.null(R)) corARMA(form = f_idx, p = k - 1, q = 0) else
      # AR(k-1) coefficients of the Toeplitz correlations (Yule-Walker)
      corARMA(value = solve(toeplitz(c(1, rho)[1:(k - 1)]), rho), form = f_idx, p = k - 1, q = 0))
  w <- if (!type %in% c("us", "csh", "arh1", "toeph")) NULL else if (is.null(sd)) varIdent(form = f_vis) else
    varIdent(value = setNames(sd[-1] / sd[1], cfg$visits[-1]), form = f_vis)
  method <- if (reml) "REML" else "ML"
  call <- bquote(gls(model = .(cfg$formula), data = analysis_data, correlation = .(cor), weights = .(w),
                     method = .(method), control = GLS_CONTROL))
  # the data under a fixed global name: getVarCov, emmeans and clubSandwich re-evaluate the call's data
  assign("analysis_data", cfg$data, envir = globalenv())
  eval(call, globalenv())
}

#' Residual covariance of a gls fit, k x k in visit order (from a subject seen at every visit).
gls_sigma <- function(fit, d, k) {
  complete <- names(which(lengths(d$rows) == k))[1]
  unname(as.matrix(getVarCov(fit, individual = complete)))
}

#' Newton steps on the own likelihood (numDeriv gradient and Hessian) from theta; each step kept only if
#' it increases the log-likelihood.
polish <- function(negll, theta, steps = 4) {
  for (i in seq_len(steps)) {
    g <- numDeriv::grad(negll, theta)
    H <- numDeriv::hessian(negll, theta)
    proposal <- tryCatch(theta - solve(H, g), error = function(e) theta)
    if (!is.finite(negll(proposal)) || negll(proposal) >= negll(theta)) break
    theta <- proposal
  }
  theta
}

nlme_call_text <- function(type, k) {
  cor <- switch(type, us = "corSymm(form = ~ visit index | subject)", cs = , csh = "corCompSymm(form = ~ 1 | subject)",
                ar1 = , arh1 = "corAR1(form = ~ visit index | subject)",
                toep = , toeph = sprintf("corARMA(form = ~ visit index | subject, p = %d, q = 0)", k - 1))
  w <- if (type %in% c("us", "csh", "arh1", "toeph")) ", weights = varIdent(form = ~ 1 | visit)" else ""
  paste0("nlme::gls(correlation = ", cor, w, ")")
}

#' One output row per LS mean or contrast: estimate and SE from emmeans; df from the Satterthwaite formula
#' (`s`, or the df of `emmeans` when `s` is NULL); CI, t and p recomputed with that df.
emm_row <- function(r, estimate, l, s, level = 0.95) {
  df <- if (is.null(s)) r$df else satterthwaite_df(s, l)
  se <- if (is.null(s)) r$SE else sqrt(sum(l * (s$C %*% l)))
  q <- qt(1 - (1 - level) / 2, df)
  out <- list(estimate = estimate, std_error = se, df = df, ci_low = estimate - q * se, ci_high = estimate + q * se,
              statistic = estimate / se, p_value = 2 * pt(-abs(estimate / se), df))
  if (!is.null(s)) out <- c(out, list(std_error_emmeans = r$SE, df_emmeans = r$df, ci_low_emmeans = r$lower.CL,
                                      ci_high_emmeans = r$upper.CL, p_value_emmeans = r$p.value))
  c(out, list(l = l))
}

emm_rows <- function(emm_summary, cfg, s = NULL, L = NULL) {
  lapply(seq_len(nrow(emm_summary)), function(i) {
    r <- emm_summary[i, ]
    c(list(arm = as.character(r[[cfg$arm]]), visit = as.character(r[[cfg$visit]])),
      emm_row(r, r$emmean, L[i, ], s))
  })
}

contrast_rows <- function(con_summary, cfg, s = NULL, L = NULL) {
  lapply(seq_len(nrow(con_summary)), function(i) {
    r <- con_summary[i, ]
    arms <- strsplit(as.character(r$contrast), " - ", fixed = TRUE)[[1]]
    stopifnot(arms[2] == cfg$control)
    c(list(arm = arms[1], control = arms[2], visit = as.character(r[[cfg$visit]])),
      emm_row(r, r$estimate, L[i, ], s))
  })
}

lsmeans_and_contrasts <- function(fitted, cfg, s, ...) {
  mode_used <- list(...)$mode
  # emmeans's Satterthwaite for gls is not deterministic from run to run (it can also fail, see below):
  # a fixed seed makes the *_emmeans fields reproducible; the reference df are computed by formula
  set.seed(20260903)
  emm <- tryCatch(emmeans::emmeans(fitted, specs = c(cfg$arm, cfg$visit), data = cfg$data, weights = "equal", ...),
                  error = function(e) {
                    # emmeans's own Satterthwaite needs nlme's apVar, which is sometimes not positive definite
                    cat("emmeans:", conditionMessage(e), "- its df replaced by df.error\n")
                    args <- list(...)
                    args$mode <- "df.error"
                    mode_used <<- "df.error"
                    do.call(emmeans::emmeans, c(list(fitted, specs = c(cfg$arm, cfg$visit), data = cfg$data,
                                                     weights = "equal"), args))
                  })
  con <- emmeans::contrast(emm, method = "trt.vs.ctrl", ref = 1, by = cfg$visit, adjust = "none")
  emm_s <- summary(emm, infer = c(TRUE, TRUE), level = 0.95)
  con_s <- summary(con, infer = c(TRUE, TRUE), level = 0.95, adjust = "none")
  # emmeans's arm levels in the order of the factor: the control (reference) level is first
  stopifnot(levels(cfg$data[[cfg$arm]])[1] == cfg$control)
  list(lsmeans = emm_rows(emm_s, cfg, s, emm@linfct), contrasts = contrast_rows(con_s, cfg, s, con@linfct),
       emm_summary = emm_s, con_summary = con_s, mode = mode_used)
}

reference_fit <- function(cfg, type, reml) {
  k <- length(cfg$visits)
  t0 <- proc.time()[["elapsed"]]
  d <- make_design(cfg$data, cfg$formula, cfg$subject, "VISIT_INDEX")
  struct <- make_structure(type, k)
  negll <- function(t) -loglik_sigma(struct$sigma(t), d, reml)

  # 1. gls from its default start; its stopping rule leaves it up to ~1e-7 below the optimum
  fit0 <- fit_gls(cfg, type, reml)
  Sigma0 <- gls_sigma(fit0, d, k)
  theta0 <- struct$theta(Sigma0)
  stopifnot(max(abs(struct$sigma(theta0) - Sigma0)) < 1e-8 * max(abs(Sigma0)))
  ll0_r <- as.numeric(logLik(fit0))
  ll0_own <- loglik_sigma(Sigma0, d, reml)

  # 2. Newton steps on the own likelihood, then gls again from there: the reference is at the optimum
  theta_star <- polish(negll, theta0)
  fit <- fit_gls(cfg, type, reml, start = struct$sigma(theta_star))
  Sigma <- gls_sigma(fit, d, k)
  theta <- struct$theta(Sigma)
  stopifnot(max(abs(struct$sigma(theta) - Sigma)) < 1e-8 * max(abs(Sigma)))
  ll_r <- as.numeric(logLik(fit))
  ll_own <- loglik_sigma(Sigma, d, reml)
  log_det_xtx_half <- 0.5 * as.numeric(determinant(crossprod(d$X))$modulus)
  scale <- sqrt(outer(diag(Sigma), diag(Sigma)))
  gradient_at_gls <- numDeriv::grad(negll, theta)

  # 3. independent check: own maximisation of the same likelihood from a neutral start
  s2_ols <- sum(lm.fit(d$X, d$y)$residuals^2) / (d$N - d$p)
  start <- struct$theta(s2_ols * (0.7 * diag(k) + 0.3))
  opt <- nlminb(start, negll, control = list(rel.tol = 1e-14, x.tol = 1e-12, iter.max = 2000, eval.max = 4000))
  theta_own <- polish(negll, opt$par)
  Sigma_own <- struct$sigma(theta_own)

  s <- satterthwaite_setup(struct, theta, d, reml)
  beta <- coef(fit)
  # model-based covariance (X'V^-1 X)^-1 as SAS; nlme's vcov of an ML fit is larger by N / (N - p)
  se <- sqrt(diag(s$C))
  se_gls <- sqrt(diag(vcov(fit)))
  terms <- structured_terms(cfg$formula, cfg$data)
  stopifnot(identical(vapply(terms, `[[`, "", "r_name"), names(beta)))

  empirical <- NULL
  checks_emp <- list()
  if (type == "us") {
    empirical <- sqrt(diag(sandwich_cr0(Sigma, d, beta)))
    vc <- clubSandwich::vcovCR(fit, cluster = cfg$data[[cfg$subject]], type = "CR0")
    checks_emp <- list(empirical_se_max_relative_difference_clubSandwich_vs_formula =
                         max(abs(sqrt(diag(as.matrix(vc))) / empirical - 1)))
  }
  fixed <- lapply(seq_along(terms), function(j) {
    out <- c(terms[[j]], list(estimate = unname(beta[j]), std_error = unname(se[j]),
                              df_satterthwaite = satterthwaite_df(s, diag(d$p)[j, ])))
    if (!is.null(empirical)) out$std_error_empirical <- unname(empirical[j])
    out
  })

  emm_args <- list(mode = "satterthwaite")
  if (!reml) emm_args$sigmaAdjust <- FALSE  # model-based SE (X'V^-1X)^-1, as SAS, not rescaled by N/(N-p)
  lc <- do.call(lsmeans_and_contrasts, c(list(fit, cfg, s), emm_args))
  emm_se <- vapply(lc$lsmeans, function(r) r$std_error_emmeans / r$std_error - 1, 0)

  result <- list(
    dataset = cfg$dataset, covariance = type, reml = reml,
    reference_levels = cfg$reference_levels, model = cfg$model_text,
    software = paste0("R ", getRversion(), ", nlme ", packageVersion("nlme"), " ", nlme_call_text(type, k),
                      ", method = \"", if (reml) "REML" else "ML", "\"; emmeans ", packageVersion("emmeans"),
                      " (weights = \"equal\"", if (!reml) ", sigmaAdjust = FALSE" else "", ")",
                      if (type == "us") paste0("; clubSandwich ", packageVersion("clubSandwich"),
                                               " vcovCR(type = \"CR0\") as a check") else ""),
    gls_control = GLS_CONTROL_TEXT,
    n_subjects = length(d$rows), n_observations = d$N,
    log_likelihood_r = ll_r,
    log_likelihood_sas_convention = ll_own,
    visits = cfg$visits,
    covariance_matrix = matrix_rows(Sigma),
    covariance_parameters = list(parametrisation = cfg$param_text[[type]], theta = theta),
    fixed_effects = fixed,
    lsmeans = lapply(lc$lsmeans, function(r) { r$l <- NULL; r }),
    contrasts = lapply(lc$contrasts, function(r) { r$l <- NULL; r }),
    emmeans_df_mode = if (is.null(lc$mode)) "kenward-roger" else lc$mode,
    checks = c(list(
      r_minus_sas_convention_loglik = ll_r - ll_own,
      half_log_det_xtx = if (reml) log_det_xtx_half else NULL,
      gls_default_start_loglik_minus_reference = ll0_r - ll_r,
      gls_default_start_covariance_max_difference_correlation_scale = max(abs(Sigma0 - Sigma) / scale),
      gls_default_start_fixed_effects_max_difference_in_se = max(abs(coef(fit0) - beta) / se),
      own_optimiser_loglik_minus_reference = -negll(theta_own) - ll_own,
      own_optimiser_covariance_max_difference_correlation_scale = max(abs(Sigma_own - Sigma) / scale),
      gradient_norm_at_reference = sqrt(sum(gradient_at_gls^2)),
      se_max_relative_difference_nlme_vcov_vs_formula = max(abs(se_gls / se - 1)),
      lsmeans_se_max_relative_difference_emmeans_vs_formula = max(abs(emm_se)),
      lsmeans_df_max_abs_difference_emmeans_vs_formula =
        max(abs(vapply(lc$lsmeans, function(r) r$df_emmeans - r$df, 0))),
      contrasts_df_max_abs_difference_emmeans_vs_formula =
        max(abs(vapply(lc$contrasts, function(r) r$df_emmeans - r$df, 0)))
    ), checks_emp)
  )
  cat(sprintf("\n==== %s %s %s ====\n", cfg$dataset, type, if (reml) "REML" else "ML"))
  print(summary(fit)$tTable, digits = 10)
  print(Sigma, digits = 10)
  print(lc$emm_summary, digits = 10)
  print(lc$con_summary, digits = 10)
  str(result$checks, digits.d = 10)
  cat("seconds to compute:", proc.time()[["elapsed"]] - t0, "\n")
  result
}

PARAMETRISATION_TEXT <- list(
  us = "theta = lower Cholesky factor L of Sigma (Sigma = L L'), column-wise, with log of its diagonal",
  cs = "theta = (sigma_b^2, sigma_e^2): Sigma = sigma_e^2 I + sigma_b^2 J (SAS TYPE=CS parameters CS, Residual)",
  csh = "theta = (log sd_1..log sd_k, rho): Sigma_ij = sd_i sd_j rho (i != j)",
  ar1 = "theta = (log sigma^2, rho): Sigma_ij = sigma^2 rho^|i-j|",
  arh1 = "theta = (log sd_1..log sd_k, rho): Sigma_ij = sd_i sd_j rho^|i-j|",
  toep = "theta = (log sigma^2, rho_1..rho_(k-1)): Sigma_ij = sigma^2 rho_|i-j|",
  toeph = "theta = (log sd_1..log sd_k, rho_1..rho_(k-1)): Sigma_ij = sd_i sd_j rho_|i-j|"
)

#' All reference fits of one data set; writes <type>_<method>.json into the working folder.
run_reference_fits <- function(cfg, fits = list(c("us", "REML"), c("us", "ML"), c("cs", "REML"), c("cs", "ML"),
                                                c("csh", "REML"), c("ar1", "REML"), c("arh1", "REML"),
                                                c("toep", "REML"), c("toeph", "REML"))) {
  cfg$param_text <- PARAMETRISATION_TEXT
  for (f in fits) {
    res <- tryCatch(reference_fit(cfg, f[1], f[2] == "REML"), error = function(e) {
      cat("\n**** FAILED", cfg$dataset, f[1], f[2], ":", conditionMessage(e), "\n")
      NULL
    })
    if (!is.null(res)) write_json15(res, sprintf("%s_%s.json", f[1], tolower(f[2])))
  }
}

# ---------------------------------------------------------------------------------------------------
# Kenward-Roger: the cs model as a random-intercept model, lme4::lmer + pbkrtest / lmerTest / emmeans.

run_kenward_roger <- function(cfg) {
  suppressPackageStartupMessages({
    library(lmerTest)
    library(pbkrtest)
  })
  k <- length(cfg$visits)
  formula <- update(cfg$formula, as.formula(paste(". ~ . + (1 |", cfg$subject, ")")))
  assign("analysis_data", cfg$data, envir = globalenv())
  fit <- eval(bquote(lmerTest::lmer(.(formula), data = analysis_data, REML = TRUE,
                                    control = lme4::lmerControl(optimizer = "bobyqa",
                                                                optCtrl = list(rhobeg = 2e-3, rhoend = 1e-12)))),
              globalenv())
  vc <- as.data.frame(lme4::VarCorr(fit))
  sigma_b2 <- vc$vcov[vc$grp == cfg$subject]
  sigma_e2 <- vc$vcov[vc$grp == "Residual"]
  stopifnot(sigma_b2 > 0)  # a random intercept is the cs model only when the within-subject covariance is > 0
  Sigma <- sigma_e2 * diag(k) + sigma_b2
  d <- make_design(cfg$data, cfg$formula, cfg$subject, "VISIT_INDEX")

  kr <- summary(fit, ddf = "Kenward-Roger")$coefficients
  sw <- summary(fit, ddf = "Satterthwaite")$coefficients
  V_adj <- as.matrix(pbkrtest::vcovAdj(fit))
  V_unadj <- as.matrix(vcov(fit))
  terms <- structured_terms(cfg$formula, cfg$data)
  stopifnot(identical(vapply(terms, `[[`, "", "r_name"), rownames(kr)))
  fixed <- lapply(seq_along(terms), function(j) {
    l <- diag(nrow(kr))[j, , drop = FALSE]
    c(terms[[j]], list(estimate = kr[j, "Estimate"], std_error = kr[j, "Std. Error"], df = kr[j, "df"],
                       std_error_pbkrtest = sqrt(V_adj[j, j]), df_pbkrtest = pbkrtest::get_Lb_ddf(fit, l),
                       std_error_unadjusted = sqrt(V_unadj[j, j]), df_satterthwaite_lmertest = sw[j, "df"]))
  })

  lc <- lsmeans_and_contrasts(fit, cfg, NULL, lmer.df = "kenward-roger")
  lc_sw <- lsmeans_and_contrasts(fit, cfg, NULL, lmer.df = "satterthwaite")
  add_sw <- function(rows, rows_sw) Map(function(r, q) {
    r$l <- NULL
    c(r, list(std_error_unadjusted = q$std_error, df_satterthwaite_lmertest = q$df))
  }, rows, rows_sw)

  ll_own <- loglik_sigma(Sigma, d, TRUE)
  result <- list(
    dataset = cfg$dataset, covariance = "cs", reml = TRUE, df_method = "kenward_roger",
    reference_levels = cfg$reference_levels, model = paste(cfg$model_text, "| as lmer: + (1 |", cfg$subject, ")"),
    software = paste0("R ", getRversion(), ", lme4 ", packageVersion("lme4"), " lmer(REML = TRUE), lmerTest ",
                      packageVersion("lmerTest"), " summary(ddf = \"Kenward-Roger\" and \"Satterthwaite\"), pbkrtest ",
                      packageVersion("pbkrtest"), " vcovAdj / Lb_ddf, emmeans ", packageVersion("emmeans"),
                      " (lmer.df = \"kenward-roger\" and \"satterthwaite\", weights = \"equal\")"),
    n_subjects = length(d$rows), n_observations = d$N,
    log_likelihood_r = as.numeric(logLik(fit)),
    log_likelihood_sas_convention = ll_own,
    visits = cfg$visits,
    covariance_matrix = matrix_rows(Sigma),
    covariance_parameters = list(parametrisation = PARAMETRISATION_TEXT$cs, theta = c(sigma_b2, sigma_e2)),
    fixed_effects = fixed,
    lsmeans = add_sw(lc$lsmeans, lc_sw$lsmeans),
    contrasts = add_sw(lc$contrasts, lc_sw$contrasts),
    checks = list(
      r_minus_sas_convention_loglik = as.numeric(logLik(fit)) - ll_own,
      kr_se_max_relative_difference_lmerTest_vs_pbkrtest = max(abs(kr[, "Std. Error"] / sqrt(diag(V_adj)) - 1)),
      kr_df_max_abs_difference_lmerTest_vs_pbkrtest =
        max(abs(kr[, "df"] - vapply(fixed, function(r) r$df_pbkrtest, 0)))
    )
  )
  cat(sprintf("\n==== %s cs Kenward-Roger (lmer) ====\n", cfg$dataset))
  print(kr, digits = 10)
  print(lc$emm_summary, digits = 10)
  print(lc$con_summary, digits = 10)
  str(result$checks, digits.d = 10)
  write_json15(result, "cs_kr.json")
  invisible(result)
}
