// A JAX-WS client of the LMS, compiled against the classes `wsimport` generates from the live WSDL
// (package lms.generated), as a bank's Java integrator would write it: typed results, typed
// LmsFault faults, HTTP Basic through the standard BindingProvider properties.
//
// Usage: java LmsJourney <wsdl-url> <customer> <transactions-customer> <run-id>
// Credentials come from the environment: LMS_{BANK,SCORING,ADMIN}_{USERNAME,PASSWORD}.
// Prints one line per step, "OK <step> key=value ..." or "FAULT <step> code=... loanId=...", then
// "DONE"; tests/e2e/test_java_client.py checks them.

import java.math.BigDecimal;
import java.net.URL;
import java.util.List;
import java.util.Map;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.Holder;

import lms.generated.Customer;
import lms.generated.LmsFault;
import lms.generated.LmsFault_Exception;
import lms.generated.Loan;
import lms.generated.LoanEvent;
import lms.generated.LoanManagementService;
import lms.generated.LoanManagementService_Service;
import lms.generated.LoanStatement;
import lms.generated.LoanStatus;
import lms.generated.PortfolioReport;
import lms.generated.Product;
import lms.generated.ScoringRegistration;
import lms.generated.TransactionData;

public final class LmsJourney {
    interface Call<T> {
        T run() throws LmsFault_Exception;
    }

    private static final long POLL_DEADLINE_MS = 30_000;

    private static LoanManagementService port(LoanManagementService_Service service, String role) {
        LoanManagementService port = service.getLoanManagementService();
        Map<String, Object> context = ((BindingProvider) port).getRequestContext();
        context.put(BindingProvider.USERNAME_PROPERTY, System.getenv("LMS_" + role + "_USERNAME"));
        context.put(BindingProvider.PASSWORD_PROPERTY, System.getenv("LMS_" + role + "_PASSWORD"));
        context.put("com.sun.xml.ws.connect.timeout", 10_000);
        context.put("com.sun.xml.ws.request.timeout", 10_000);
        return port;
    }

    /** Runs one step; a LmsFault is printed (code and loanId from the typed detail), not thrown. */
    private static <T> T step(String name, Call<T> call) {
        try {
            return call.run();
        } catch (LmsFault_Exception fault) {
            LmsFault detail = fault.getFaultInfo();
            System.out.println("FAULT " + name + " code=" + detail.getCode() + " loanId=" + detail.getLoanId()
                    + " message=" + fault.getMessage().replace(' ', '_'));
            return null;
        }
    }

    private static String loan(Loan loan) {
        return "loanId=" + loan.getLoanId() + " status=" + loan.getStatus().value() + " amount="
                + loan.getAmount().toPlainString() + " currency=" + loan.getCurrency() + " scoringAttempts="
                + loan.getScoringAttempts() + " outstanding="
                + (loan.getOutstanding() == null ? "none" : loan.getOutstanding().toPlainString())
                + " createdAt=" + loan.getCreatedAt().toXMLFormat();
    }

    public static void main(String[] args) throws Exception {
        String customer = args[1];
        String transactionsCustomer = args[2];
        String runId = args[3];
        LoanManagementService_Service service = new LoanManagementService_Service(new URL(args[0]));
        LoanManagementService bank = port(service, "BANK");
        LoanManagementService scoring = port(service, "SCORING");
        LoanManagementService admin = port(service, "ADMIN");

        Holder<Customer> registered = new Holder<>();
        Holder<Boolean> already = new Holder<>();
        step("register", () -> {
            bank.registerCustomer(customer, registered, already);
            return null;
        });
        if (registered.value != null) {
            System.out.println("OK register customerNumber=" + registered.value.getCustomerNumber() + " kycStatus="
                    + registered.value.getKycStatus().value() + " alreadyRegistered=" + already.value
                    + " registeredAt=" + registered.value.getRegisteredAt().toXMLFormat());
        }
        Customer got = step("get-customer", () -> bank.getCustomer(customer));
        if (got != null) {
            System.out.println("OK get-customer customerNumber=" + got.getCustomerNumber() + " lastName="
                    + got.getLastName());
        }

        BigDecimal amount = new BigDecimal("1000.00");
        Loan submitted = step("submit", () -> bank.submitLoan(customer, amount, "java-" + runId, null));
        String loanId = submitted == null ? "missing" : submitted.getLoanId();
        if (submitted != null) {
            System.out.println("OK submit " + loan(submitted));
        }
        step("second-submit", () -> bank.submitLoan(customer, amount, null, null));
        step("unknown-product", () -> bank.submitLoan(customer, amount, null, "NO-SUCH-PRODUCT"));

        long deadline = System.currentTimeMillis() + POLL_DEADLINE_MS;
        Loan status = step("status", () -> bank.getLoanStatus(loanId, null));
        while (status != null && (status.getStatus() == LoanStatus.PENDING || status.getStatus() == LoanStatus.SCORING)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
            status = step("status", () -> bank.getLoanStatus(loanId, null));
        }
        if (status != null) {
            List<LoanEvent> history = status.getHistory();
            System.out.println("OK status " + loan(status) + " history="
                    + history.get(history.size() - 1).getToStatus().value());
        }
        Loan latest = step("status-by-customer", () -> bank.getLoanStatus(null, customer));
        if (latest != null) {
            System.out.println("OK status-by-customer " + loan(latest));
        }

        Holder<List<Loan>> loans = new Holder<>();
        Holder<Integer> total = new Holder<>();
        step("list", () -> {
            bank.listLoans(customer, null, 0, 10, loans, total);
            return null;
        });
        if (total.value != null) {
            System.out.println("OK list total=" + total.value + " first=" + loans.value.get(0).getLoanId());
        }

        List<Product> products = step("products", () -> bank.listProducts());
        if (products != null) {
            Product standard = products.stream().filter(p -> p.getCode().equals("STANDARD")).findFirst().get();
            System.out.println("OK products code=" + standard.getCode() + " tenor=" + standard.getTenor()
                    + " fee=" + standard.getFee().toPlainString() + " autoDisburse=" + standard.isAutoDisburse());
        }
        LoanStatement statement = step("statement", () -> bank.getLoanStatement(loanId));
        if (statement != null) {
            System.out.println("OK statement loanId=" + statement.getLoan().getLoanId() + " productCode="
                    + statement.getLoan().getProductCode() + " order=" + statement.getAllocationOrder().replace(" ", "")
                    + " total=" + statement.getBalances().getTotalOutstanding().toPlainString()
                    + " dueDate=" + (statement.getDueDate() == null ? "none" : statement.getDueDate().toXMLFormat()));
        }
        step("write-off-as-bank", () -> bank.writeOffLoan(loanId, "UNREACHABLE"));
        step("write-off-disbursed", () -> admin.writeOffLoan(loanId, "UNREACHABLE"));
        step("confirm-disbursement-other-reference", () -> bank.confirmDisbursement(loanId, "java-" + runId, null));
        PortfolioReport report = step("portfolio", () -> admin.getPortfolioReport(null));
        if (report != null) {
            System.out.println("OK portfolio statuses=" + report.getStatuses().size() + " par=" + report.getPar().size()
                    + " book=" + report.getBookPrincipal().toPlainString());
        }

        step("repay-too-much", () -> bank.repayLoan(loanId, new BigDecimal("99999999.00"), "java-" + runId + "-x"));
        BigDecimal outstanding = status == null || status.getOutstanding() == null ? amount : status.getOutstanding();
        Loan repaid = step("repay", () -> bank.repayLoan(loanId, outstanding, "java-" + runId + "-r1"));
        if (repaid != null) {
            System.out.println("OK repay " + loan(repaid));
        }

        Loan again = step("submit-again", () -> bank.submitLoan(customer, new BigDecimal("500.00"), null, "STANDARD"));
        String againId = again == null ? "missing" : again.getLoanId();
        Loan cancelled = step("cancel", () -> bank.cancelLoan(againId, "changed my mind"));
        if (cancelled != null) {
            System.out.println("OK cancel " + loan(cancelled));
        }
        step("cancel-again", () -> bank.cancelLoan(againId, null));
        step("unknown-loan", () -> bank.getLoanStatus("NOSUCHLOAN", null));

        // GetTransactions serves customers registered with the LMS.
        step("register-transactions-customer", () -> {
            bank.registerCustomer(transactionsCustomer, new Holder<>(), new Holder<>());
            return null;
        });
        List<TransactionData> records = step("transactions", () -> scoring.getTransactions(transactionsCustomer));
        if (records != null) {
            System.out.println("OK transactions count=" + records.size() + " accountNumber="
                    + records.get(0).getAccountNumber());
        }
        step("transactions-as-bank", () -> bank.getTransactions(transactionsCustomer));
        step("scoring-register-as-bank", () -> bank.scoringRegister(null, null));
        // Last: registering again rotates the credentials the scoring engine uses.
        ScoringRegistration registration = step("scoring-register", () -> admin.scoringRegister("lms-java", null));
        if (registration != null) {
            System.out.println("OK scoring-register clientId=" + registration.getClientId() + " name="
                    + registration.getName() + " username=" + registration.getUsername());
        }
        System.out.println("DONE");
    }
}
