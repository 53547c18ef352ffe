// The console's "Record a payment" form: keeps the amount at the circle's price for what is
// chosen (a year's fee, or the token price times how many), until the operator types an amount
// of their own. Without JavaScript the amount starts at the fee and the service checks it.
const form = document.querySelector("[data-payment-form]");
if (form) {
  const amount = form.querySelector("#id_amount");
  const tokens = form.querySelector("#id_tokens");
  const fee = form.dataset.fee;
  const tokenPrice = Number(form.dataset.tokenPrice);
  let typed = false;

  const due = () => {
    const purpose = form.querySelector("input[name=purpose]:checked");
    if (!purpose || purpose.value === "membership") return fee;
    const count = /^\d+$/.test(tokens.value.trim()) ? Number(tokens.value.trim()) : 0;
    // In pence, so that 3 x 10.10 is 30.30, not 30.299999.
    return count > 0 ? ((Math.round(tokenPrice * 100) * count) / 100).toFixed(2) : "";
  };
  const refresh = () => {
    if (!typed && amount) amount.value = due();
  };

  if (amount) {
    typed = amount.value !== "" && amount.value !== due();
    amount.addEventListener("input", () => {
      typed = amount.value !== "";
    });
  }
  form.addEventListener("change", (event) => {
    if (event.target !== amount) refresh();
  });
  if (tokens) tokens.addEventListener("input", refresh);
}
