# Check of the Satterthwaite df by formula on fev_data, us, REML (reads us_reml.json written by fits.R):
# the df must not depend on how the covariance parameters theta are parametrised. Computes them with
# theta = log-Cholesky factor (as fits.R) and theta = the covariance elements sigma_ij (as SAS's UN),
# both with numDeriv's default Richardson settings, and once with a larger initial step (d = 1e-3, r = 6)
# to show the sensitivity to that choice.
# Run from this folder:  Rscript check_df_invariance.R > check_df_invariance.Rout 2>&1
source("../mmrm_reference_lib.R")
fits <- readLines("fits.R")
source(textConnection(paste(fits[!grepl("^run_|^sessionInfo", fits)], collapse = "\n")))

d <- make_design(cfg$data, cfg$formula, "USUBJID", "VISIT_INDEX")
ref <- jsonlite::fromJSON("us_reml.json")
S <- ref$covariance_matrix
df_all <- function(s) vapply(seq_len(d$p), function(j) satterthwaite_df(s, diag(d$p)[j, ]), 0)

cholesky <- make_structure("us", 4)
s_chol <- satterthwaite_setup(cholesky, cholesky$theta(S), d, TRUE)
elements <- list(sigma = function(t) {
  M <- matrix(0, 4, 4)
  M[lower.tri(M, diag = TRUE)] <- t
  M + t(M) - diag(diag(M))
})
s_elem <- satterthwaite_setup(elements, S[lower.tri(S, diag = TRUE)], d, TRUE)
df_chol <- df_all(s_chol)
df_elem <- df_all(s_elem)

H_big <- numDeriv::hessian(function(t) -loglik_sigma(cholesky$sigma(t), d, TRUE), cholesky$theta(S),
                           method.args = list(d = 1e-3, r = 6))
s_big <- s_chol
s_big$W <- solve(H_big)
df_big <- df_all(s_big)

print(data.frame(term = colnames(d$X), json = ref$fixed_effects$df_satterthwaite, log_cholesky = df_chol,
                 sigma_elements = df_elem, log_cholesky_big_step = df_big), digits = 12)
cat("max relative difference, log-Cholesky vs sigma elements:", max(abs(df_chol / df_elem - 1)), "\n")
cat("max relative difference, recomputed vs us_reml.json:", max(abs(df_chol / ref$fixed_effects$df_satterthwaite - 1)), "\n")
cat("max relative difference, default vs big-step Hessian:", max(abs(df_chol / df_big - 1)), "\n")
