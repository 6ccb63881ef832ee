# Multiple imputation of data.csv (2 arms, 4 visits, monotone dropout) under MAR, jump-to-reference
# (J2R) and copy-reference (CR), reference = control; ANCOVA at the last visit per imputation; Rubin's
# rules by mice::pool.scalar. Independent of the Python package: written from the model only.
#
# Imputation model: Y_i ~ N(B'x_i, Sigma), x_i = (1, active, baseline), prior p(B, Sigma) ∝ |Sigma|^-(T+1)/2.
# For monotone data the posterior is drawn exactly (no Gibbs sampler) through the sequential regressions
# Y_t | x, Y_<t ~ N(x'gamma_t + Y_<t'phi_t, sigma_t^2), fitted on the subjects observed at visit t
# (n_t of them, q_t = p + t - 1 regressors). The map (B, Sigma) -> (gamma, phi, sigma^2) has Jacobian
# prod_t sigma_t^(2(T - t)), so the prior becomes prod_t (sigma_t^2)^(-(T+1)/2 + T - t) and the regressions
# are independent a posteriori with
#   sigma_t^2 ~ RSS_t / chi^2(n_t - p - T + t),   (gamma_t, phi_t) | sigma_t^2 ~ N(OLS, sigma_t^2 (Z_t'Z_t)^-1).
# (Complete data: these are the Bartlett factors of Sigma ~ Inverse-Wishart(E'E, n - p); checked below.)
# Back-transform: B_t = gamma_t + B_<t phi_t, Sigma_<t,t = Sigma_<t phi_t, Sigma_tt = sigma_t^2 + phi_t'Sigma_<t phi_t.
#
# Run: R CMD BATCH --no-save --no-restore mi.R   (writes mi.Rout, blocks.csv, expected.csv, mmrm.csv)
source("../exact_csv.R")
suppressPackageStartupMessages({
  library(mice)
  library(nlme)
})
print_versions(c("mice", "nlme"))
set.seed(20240612)

data <- read.csv("data.csv")
visits <- 4
Y <- as.matrix(data[, paste0("visit", 1:visits)])
X <- cbind(intercept = 1, active = as.numeric(data$arm == "active"), baseline = data$baseline)
n <- nrow(X)
p <- ncol(X)
stopifnot(all(apply(is.na(Y), 1, function(r) all(diff(r) >= 0))))  # monotone

posterior_draws <- function(X, Y, draws) {
  observed <- rowSums(!is.na(Y))
  B <- array(0, c(draws, p, visits))
  Sigma <- array(0, c(draws, visits, visits))
  for (t in 1:visits) {
    rows <- observed >= t
    prev <- seq_len(t - 1)
    Z <- cbind(X[rows, ], Y[rows, prev])
    ZtZ_inv <- solve(crossprod(Z))
    ols <- drop(ZtZ_inv %*% crossprod(Z, Y[rows, t]))
    rss <- sum((Y[rows, t] - Z %*% ols)^2)
    sigma2 <- rss / rchisq(draws, sum(rows) - p - visits + t)
    beta <- matrix(ols, draws, ncol(Z), byrow = TRUE) +
      sqrt(sigma2) * matrix(rnorm(draws * ncol(Z)), draws) %*% chol(ZtZ_inv)
    for (d in 1:draws) {
      gamma <- beta[d, 1:p]
      phi <- beta[d, -(1:p)]
      S_prev <- Sigma[d, prev, prev, drop = FALSE][1, , ]
      B[d, , t] <- gamma + matrix(B[d, , prev], p) %*% phi
      Sigma[d, prev, t] <- Sigma[d, t, prev] <- S_prev %*% phi
      Sigma[d, t, t] <- sigma2[d] + sum(phi * (S_prev %*% phi))
    }
  }
  list(B = B, Sigma = Sigma)
}

# Check of the sampler on the complete cases: Sigma ~ IW(E'E, nu), nu = n_cc - p, has mean E'E / (nu - T - 1)
complete <- rowSums(is.na(Y)) == 0
check <- posterior_draws(X[complete, ], Y[complete, ], 20000)
E <- Y[complete, ] - X[complete, ] %*% solve(crossprod(X[complete, ]), crossprod(X[complete, ], Y[complete, ]))
iw_mean <- crossprod(E) / (sum(complete) - p - visits - 1)
cat("complete cases: mean of 20000 Sigma draws / inverse-Wishart mean (should be 1 within ~1-2%):\n")
print(round(apply(check$Sigma, c(2, 3), mean) / iw_mean, 3))

# Impute the last visit (the ANCOVA uses no other) of every subject who misses it, from the conditional
# normal given the subject's observed visits 1..k, under each method; one standard-normal deviate per
# subject and draw shared by the methods.
impute_last <- function(draw, z) {
  B <- draw$B
  S <- draw$Sigma
  observed <- rowSums(!is.na(Y))
  x_ref <- X
  x_ref[, "active"] <- 0
  out <- list(mar = Y[, visits], j2r = Y[, visits], cr = Y[, visits])
  for (i in which(observed < visits)) {
    k <- observed[i]
    own <- drop(X[i, ] %*% B)
    ref <- drop(x_ref[i, ] %*% B)
    means <- list(mar = own, j2r = c(own[seq_len(k)], ref[(k + 1):visits]), cr = ref)
    if (X[i, "active"] == 0) means <- list(mar = own, j2r = own, cr = own)  # the reference arm: MAR
    o <- seq_len(k)
    K <- if (k > 0) solve(S[o, o], S[o, visits]) else numeric(0)
    sd <- sqrt(S[visits, visits] - sum(S[visits, o] * K))
    for (method in names(out)) {
      mu <- means[[method]]
      out[[method]][i] <- mu[visits] + sum(K * (Y[i, o] - mu[o])) + sd * z[i]
    }
  }
  out
}

imputations <- 2000
block <- 100
draws <- posterior_draws(X, Y, imputations)
Q <- U <- matrix(NA, imputations, 3, dimnames = list(NULL, c("mar", "j2r", "cr")))
XtX_inv <- solve(crossprod(X))
for (m in 1:imputations) {
  completed <- impute_last(list(B = draws$B[m, , ], Sigma = draws$Sigma[m, , ]), rnorm(n))
  for (method in colnames(Q)) {
    y <- completed[[method]]
    coef <- XtX_inv %*% crossprod(X, y)
    s2 <- sum((y - X %*% coef)^2) / (n - p)
    Q[m, method] <- coef[2]
    U[m, method] <- s2 * XtX_inv[2, 2]
  }
}

pooled <- function(q, u) {
  r <- pool.scalar(q, u, n = n, k = p)  # complete-data df n - p
  c(estimate = r$qbar, std_error = sqrt(r$t), df = r$df, fmi = r$fmi)
}
blocks <- list()
expected <- list()
for (method in colnames(Q)) {
  per_block <- t(sapply(split(seq_len(imputations), rep(seq_len(imputations / block), each = block)),
                        function(j) pooled(Q[j, method], U[j, method])))
  blocks[[method]] <- data.frame(method = method, block = seq_len(nrow(per_block)), imputations = block, per_block)
  all <- pooled(Q[, method], U[, method])
  sd_block <- apply(per_block, 2, sd)
  boot_sd <- apply(replicate(1000, {
    j <- sample.int(imputations, replace = TRUE)
    pooled(Q[j, method], U[j, method])
  }), 1, sd)
  expected[[method]] <- data.frame(
    method = method, imputations = imputations, block_size = block, blocks = nrow(per_block),
    estimate = all[["estimate"]], std_error = all[["std_error"]], df = all[["df"]],
    block_mean_estimate = mean(per_block[, "estimate"]), block_mean_std_error = mean(per_block[, "std_error"]),
    block_mean_df = mean(per_block[, "df"]),
    # Monte Carlo SD of one pooled result from `block` imputations, and of the mean over the blocks
    block_sd_estimate = sd_block[["estimate"]], block_sd_std_error = sd_block[["std_error"]],
    block_sd_df = sd_block[["df"]],
    mcse_estimate = sd_block[["estimate"]] / sqrt(nrow(per_block)),
    mcse_std_error = sd_block[["std_error"]] / sqrt(nrow(per_block)),
    mcse_df = sd_block[["df"]] / sqrt(nrow(per_block)),
    # the textbook Monte Carlo SE of the pooled estimate from all imputations: sqrt(B / M)
    mcse_estimate_rubin = sqrt(var(Q[, method]) / imputations),
    # the same from a bootstrap over the imputations (iid given the data): SD of the pooled values of
    # 1000 resamples of the 2000 (Q, U) pairs
    bootstrap_mcse_estimate = boot_sd[["estimate"]], bootstrap_mcse_std_error = boot_sd[["std_error"]],
    bootstrap_mcse_df = boot_sd[["df"]]
  )
}
blocks <- do.call(rbind, blocks)
expected <- do.call(rbind, expected)
stopifnot(with(expected, estimate[method == "mar"] < estimate[method == "j2r"] && estimate[method == "j2r"] < 0))

# MMRM under MAR for the same data: gls, unstructured correlation, variance by visit, REML;
# the last visit is the reference level of visit, so the `armactive` coefficient is the effect there.
long <- reshape(data, direction = "long", varying = paste0("visit", 1:visits), v.names = "y",
                timevar = "visit_index", idvar = "subject")
long <- long[!is.na(long$y), ]
long$visit <- factor(long$visit_index, levels = c(4, 1, 2, 3))
long$arm <- factor(long$arm, levels = c("control", "active"))
mmrm <- gls(y ~ arm * visit + baseline * visit, data = long, method = "REML",
            correlation = corSymm(form = ~ visit_index | subject), weights = varIdent(form = ~ 1 | visit),
            control = glsControl(msMaxIter = 500, tolerance = 1e-10))
mmrm_row <- data.frame(term = "armactive at visit4", estimate = coef(mmrm)[["armactive"]],
                       std_error = sqrt(vcov(mmrm)["armactive", "armactive"]), log_likelihood = c(logLik(mmrm)))
print(summary(mmrm)$tTable)
print(mmrm_row, digits = 10)

write_exact_csv(blocks, "blocks.csv")
write_exact_csv(expected, "expected.csv")
write_exact_csv(mmrm_row, "mmrm.csv")
options(width = 150)
print(expected, digits = 6)
cat(sprintf("MAR MI - MMRM = %.4f (%.3f MMRM standard errors)\n", expected$estimate[1] - mmrm_row$estimate,
            (expected$estimate[1] - mmrm_row$estimate) / mmrm_row$std_error))
sessionInfo()
