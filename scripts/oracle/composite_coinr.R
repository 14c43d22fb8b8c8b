# Oracle cases for kinhteso's composite indices, made with COINr 1.1.14 (issue 15).
#
# Run from the project root:   Rscript scripts/oracle/composite_coinr.R
# Writes tests/oracle/composite/*.csv. The tests (tests/test_composite_oracle.py) read them
# without R. Every number is written with 17 significant digits, so that it reads back as the
# same double (an exact tie in COINr stays an exact tie in the file).
#
# Input: COINr's own ASEM example (ASEM_iData, ASEM_iMeta: 51 units, 49 indicators, 4 levels),
# written out first as asem_iData.csv and asem_iMeta.csv.
#
# Cases (one per COINr setting of issue 15):
#   ties_prank_*        percentile ranks -> arithmetic mean: exact ties among the aggregates
#   zscore_m_sd_*       z-scores with mean 10 and s.d. 2 (n_zscore, m_sd = c(10, 2))
#   winsorise_params_*  Treat with winmax = 3, skew_thresh = 1.5, kurt_thresh = 2.5
#   per_level_*         Aggregate with f_ag per level and dat_thresh per level
#   screen_zeros_*      Screen by zeros (byzeros) and by NA and zeros (byNAandzeros)
#   ua_level2_*         get_sensitivity, SA_type = "UA" (a random design of N = 20), weights
#                       perturbed on level 2 only (get_noisy_weights, noise_specs), normalisation
#                       varied; the weight sets and the choices of every replication are written
#                       so that the tests can replay exactly these replications.

suppressPackageStartupMessages(library(COINr))
stopifnot(as.character(packageVersion("COINr")) == "1.1.14")
out <- file.path("tests", "oracle", "composite")
dir.create(out, recursive = TRUE, showWarnings = FALSE)

w17 <- function(df, name) {
  df[] <- lapply(df, function(v) {
    if (is.numeric(v)) ifelse(is.na(v), NA, sprintf("%.17g", v)) else v
  })
  utils::write.csv(df, file.path(out, name), row.names = FALSE, na = "")
}
ranks_of <- function(dset) rank_df(dset[c("uCode", setdiff(names(dset), c("uCode", "uName")))])
quiet <- function(expr) suppressMessages(expr)

w17(ASEM_iData, "asem_iData.csv")
w17(ASEM_iMeta, "asem_iMeta.csv")
base <- quiet(new_coin(ASEM_iData, ASEM_iMeta, quietly = TRUE))
aggs <- ASEM_iMeta$iCode[ASEM_iMeta$Type == "Aggregate"]

# --- ties: percentile ranks, arithmetic mean ------------------------------------------------
coin <- quiet(Normalise(base, dset = "Raw", global_specs = list(f_n = "n_prank")))
coin <- quiet(Aggregate(coin, dset = "Normalised"))
agg <- get_dset(coin, "Aggregated")[c("uCode", aggs)]
w17(agg, "ties_prank_aggregated.csv")
w17(ranks_of(agg), "ties_prank_ranks.csv")

# --- z-score with mean and s.d. ---------------------------------------------------------------
coin <- quiet(Normalise(base, dset = "Raw",
                        global_specs = list(f_n = "n_zscore", f_n_para = list(m_sd = c(10, 2)))))
coin <- quiet(Aggregate(coin, dset = "Normalised"))
w17(get_dset(coin, "Normalised"), "zscore_m_sd_normalised.csv")
agg <- get_dset(coin, "Aggregated")[c("uCode", aggs)]
w17(agg, "zscore_m_sd_aggregated.csv")
w17(ranks_of(agg), "zscore_m_sd_ranks.csv")

# --- winsorisation parameters ---------------------------------------------------------------
specs <- list(f1 = "winsorise", f1_para = list(winmax = 3, skew_thresh = 1.5, kurt_thresh = 2.5),
              f2 = "log_CT", f_pass = "check_SkewKurt",
              f_pass_para = list(skew_thresh = 1.5, kurt_thresh = 2.5))
coin <- quiet(Treat(base, dset = "Raw", global_specs = specs))
w17(get_dset(coin, "Treated"), "winsorise_params_treated.csv")
w17(coin$Analysis$Treated$Dets_Table, "winsorise_params_details.csv")
coin <- quiet(Normalise(coin, dset = "Treated"))
coin <- quiet(Aggregate(coin, dset = "Normalised"))
agg <- get_dset(coin, "Aggregated")[c("uCode", aggs)]
w17(agg, "winsorise_params_aggregated.csv")
w17(ranks_of(agg), "winsorise_params_ranks.csv")

# --- aggregation per level and its data threshold --------------------------------------------
# levels 2, 3, 4: geometric, arithmetic, harmonic; dat_thresh 0.9, 0.5, 0
coin <- quiet(Normalise(base, dset = "Raw",
                        global_specs = list(f_n = "n_minmax", f_n_para = list(l_u = c(1, 100)))))
coin <- quiet(Aggregate(coin, dset = "Normalised", f_ag = c("a_gmean", "a_amean", "a_hmean"),
                        dat_thresh = c(0.9, 0.5, 0)))
agg <- get_dset(coin, "Aggregated")[c("uCode", aggs)]
w17(agg, "per_level_aggregated.csv")
w17(ranks_of(agg), "per_level_ranks.csv")

# --- screening by zeros ------------------------------------------------------------------------
for (mode in c("byzeros", "byNAandzeros")) {
  coin <- quiet(Screen(base, dset = "Raw", unit_screen = mode, dat_thresh = 0.9, nonzero_thresh = 0.95))
  summ <- coin$Analysis$Screened$DataSummary
  w17(summ[c("uCode", "N_missing", "N_zero", "Dat_Avail", "Non_Zero", "Included")],
      paste0("screen_", mode, "_summary.csv"))
  coin <- quiet(Normalise(coin, dset = "Screened"))
  coin <- quiet(Aggregate(coin, dset = "Normalised"))
  agg <- get_dset(coin, "Aggregated")[c("uCode", aggs)]
  w17(agg, paste0("screen_", mode, "_aggregated.csv"))
  w17(ranks_of(agg), paste0("screen_", mode, "_ranks.csv"))
}

# --- uncertainty: noise on level 2 only, random design of N = 20 -----------------------------
set.seed(20261128)
coin <- quiet(Normalise(base, dset = "Raw",
                        global_specs = list(f_n = "n_minmax", f_n_para = list(l_u = c(1, 100)))))
coin <- quiet(Aggregate(coin, dset = "Normalised"))
w0 <- coin$Meta$Weights$Original
nsets <- 30
noisy <- get_noisy_weights(w = w0, noise_specs = data.frame(Level = 2, NoiseFactor = 0.25), Nrep = nsets)
norms <- list(list(f_n = "n_minmax", f_n_para = list(l_u = c(1, 100))),
              list(f_n = "n_zscore", f_n_para = list(m_sd = c(10, 2))))
sa_specs <- list(
  weights = list(Address = "$Log$Aggregate$w", Distribution = noisy, Type = "discrete"),
  normalise = list(Address = "$Log$Normalise$global_specs", Distribution = norms, Type = "discrete"))
N <- 20
sa <- quiet(get_sensitivity(coin, SA_specs = sa_specs, N = N, SA_type = "UA", dset = "Aggregated",
                            iCode = "Index", quietly = TRUE))
stopifnot(ncol(sa$Scores) == N + 2)  # uCode, Nominal, r_1 ... r_N
which_set <- sapply(sa$Para$weights, function(w) which(sapply(noisy, identical, w)))
which_norm <- sapply(sa$Para$normalise, function(s) which(sapply(norms, identical, s)))
stopifnot(length(which_set) == N, length(which_norm) == N)
w17(data.frame(replication = seq_len(N), weight_set = which_set, normalise = which_norm),
    "ua_level2_design.csv")
wsets <- do.call(rbind, lapply(seq_len(nsets), function(k) {
  data.frame(weight_set = k, iCode = noisy[[k]]$iCode, Level = noisy[[k]]$Level, Weight = noisy[[k]]$Weight)
}))
w17(wsets, "ua_level2_weight_sets.csv")
w17(w0[c("iCode", "Level", "Weight")], "ua_level2_weights_nominal.csv")
w17(sa$Scores, "ua_level2_scores.csv")
w17(sa$RankStats, "ua_level2_rankstats.csv")
cat("oracle cases written to", out, "\n")
